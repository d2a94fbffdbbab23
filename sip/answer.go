package sip

import (
	"context"
	"errors"
	"fmt"

	"github.com/emiago/sipgo/sip"
	"github.com/sipagent/sipagent/agent"
)

// A call whose agent is an agent.AnswerDeferrer that deferred the answer
// rings while the agent runs. sipgo ends an INVITE server transaction
// when its handler returns, so the INVITE handler stays in holdInvite
// and sends every response the call still owes the caller: 180, 183
// with SDP (early media), and the final 2xx or refusal. Other goroutines
// ask for them through pendingAnswer, so the responses go out in order
// and none follows the final one.

// Responses a ringing call may be asked for.
const (
	respRinging  = 180
	respProgress = 183
	respAnswer   = 200
)

// pendingAnswer is the answer a ringing call still owes.
type pendingAnswer struct {
	cmd  chan int      // the responses asked for; final ones end holdInvite
	done chan struct{} // closed when the INVITE has its final response, or was cancelled
	err  error         // nil if the call was answered; set before done closes
}

func newPendingAnswer() *pendingAnswer {
	return &pendingAnswer{cmd: make(chan int, 4), done: make(chan struct{})}
}

// ask queues a response for holdInvite. It never blocks once the
// INVITE has its final response.
func (p *pendingAnswer) ask(ctx context.Context, code int) error {
	select {
	case p.cmd <- code:
		return nil
	case <-p.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// defersAnswer reports whether ag wants to run before the call is answered.
func defersAnswer(ag agent.Agent, info agent.Info) bool {
	d, ok := ag.(agent.AnswerDeferrer)
	return ok && d.DeferAnswer(info)
}

// Answered reports whether the call has been answered: an inbound call
// once its 2xx went out, a call sipagent placed always.
func (c *Call) Answered() bool { return c.answered.Load() }

// Answer answers a call that is still ringing (see agent.Call) and waits
// for the caller's ACK.
func (c *Call) Answer(ctx context.Context) error {
	p := c.pending
	if p == nil || c.answered.Load() {
		return nil
	}
	if err := p.ask(ctx, respAnswer); err != nil {
		return err
	}
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ensureAnswered answers a ringing call before its audio is used.
func (c *Call) ensureAnswered(ctx context.Context) error {
	if c.pending == nil || c.answered.Load() {
		return nil
	}
	return c.Answer(ctx)
}

// ErrAnswered is returned by Reject for a call already answered.
var ErrAnswered = errors.New("sip: the call is already answered")

// Reject refuses a call that is still ringing with a final failure: 486
// Busy Here, 603 Decline, 480, or 503 (TwiML <Reject reason>). It
// returns once the response is sent; the call then ends.
func (c *Call) Reject(ctx context.Context, code int) error {
	if c.pending == nil || c.answered.Load() {
		return ErrAnswered
	}
	if code < 400 || code > 699 {
		return fmt.Errorf("sip: %d is not a failure response", code)
	}
	if err := c.pending.ask(ctx, code); err != nil {
		return err
	}
	select {
	case <-c.pending.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if c.answered.Load() {
		return ErrAnswered
	}
	return nil
}

// Ringing sends 180 Ringing to a caller not yet answered, for a bridge
// whose target rings. It does nothing once the call is answered.
func (c *Call) Ringing(ctx context.Context) error {
	if c.pending == nil || c.answered.Load() {
		return nil
	}
	return c.pending.ask(ctx, respRinging)
}

// EarlyMedia opens the media of a caller not yet answered: 183 Session
// Progress carrying our SDP answer (RFC 3261 s.13.2.1 allows it in a
// reliable or unreliable provisional response; the 2xx repeats it), so
// that the caller plays what we send before the call is answered, as a
// bridge relays the target's ringback or announcement. A call whose
// INVITE had no offer gets 180 instead: our SDP would be an offer, which
// a provisional response can carry only with PRACK (RFC 3262).
func (c *Call) EarlyMedia(ctx context.Context) error {
	if c.pending == nil || c.answered.Load() {
		return nil
	}
	return c.pending.ask(ctx, respProgress)
}

// holdInvite runs in the INVITE handler of a call whose answer was
// deferred, sending the responses the call is asked for until the final
// one, or until the caller cancels.
func (c *Call) holdInvite() {
	p := c.pending
	defer close(p.done)
	ringing := c.srv.cfg.RingTime > 0 // ring sent 180 already
	for {
		select {
		case <-c.dlg.Context().Done():
			p.err = agent.ErrHangup
			return
		case code := <-p.cmd:
			switch {
			case code == respRinging || code == respProgress && c.offerInAck():
				if !ringing {
					ringing = true
					if err := c.srvDlg.Respond(180, "Ringing", nil); err != nil {
						c.log.Debug("180 not sent", "error", err)
					}
				}
			case code == respProgress:
				c.sendEarlyMedia()
			case code == respAnswer:
				if err := c.answer(); err != nil {
					p.err = agent.ErrHangup
					c.failAnswer(err)
				}
				return
			default:
				p.err = agent.ErrHangup
				reason, hdrs := refusal(code)
				if err := c.srvDlg.Respond(code, reason, nil, hdrs...); err != nil {
					c.log.Debug("refusal not sent", "status", code, "error", err)
				}
				c.log.Info("call refused before answer", "status", code)
				return
			}
		}
	}
}

// sendEarlyMedia sends 183 with our SDP, once, and starts the media.
func (c *Call) sendEarlyMedia() {
	c.mu.Lock()
	if c.earlySent {
		c.mu.Unlock()
		return
	}
	c.earlySent = true
	body := c.localSDP
	c.mu.Unlock()
	c.sess.Start()
	if err := c.srvDlg.Respond(183, "Session Progress", body, sip.NewHeader("Content-Type", "application/sdp")); err != nil {
		c.log.Debug("183 not sent", "error", err)
		return
	}
	c.log.Info("early media to the caller")
}

func (c *Call) offerInAck() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.awaitingAnswer
}

// refusal is the reason phrase and headers of a final failure a ringing
// call is refused with.
func refusal(code int) (string, []sip.Header) {
	switch code {
	case 503:
		return "Service Unavailable", []sip.Header{sip.NewHeader("Retry-After", "30")}
	case 486:
		return "Busy Here", nil
	case 603:
		return "Decline", nil
	}
	return "Temporarily Unavailable", nil
}

// refuseUnanswered gives a call that is still ringing as it ends its
// final failure response, and waits until the INVITE has its final
// response: if an answer was already on its way, the call ends answered
// and teardown sends BYE.
func (c *Call) refuseUnanswered(code int) {
	p := c.pending
	if p == nil {
		return
	}
	select {
	case p.cmd <- code:
	default: // the queue is full: a final response is among the queued
	}
	<-p.done
}

// answerError says why an answered call did not come up, and whether a
// BYE is owed for it.
type answerError struct {
	reason string
	bye    bool
}

func (e *answerError) Error() string { return e.reason }

// answer sends our 2xx and waits for the ACK (RFC 3261 s.13.3.1.4: the
// 2xx is retransmitted over UDP until then). On failure the call must be
// torn down as the *answerError says.
func (c *Call) answer() error {
	c.sess.Start()
	c.answered.Store(true)
	dlg := c.srvDlg
	c.mu.Lock()
	body := c.localSDP
	c.mu.Unlock()
	if err := dlg.RespondSDP(body); err != nil {
		cancelled := errors.Is(context.Cause(dlg.Context()), sip.ErrTransactionCanceled) || errors.Is(err, sip.ErrTransactionCanceled)
		switch {
		case cancelled:
			c.log.Info("call cancelled by caller")
			return &answerError{reason: "cancelled"}
		case c.hungUpByCaller():
			c.log.Info("caller hung up before the call was confirmed")
			return &answerError{reason: "caller hung up"}
		default:
			// s.13.3.1.4: no ACK for our 2xx; end the session.
			c.log.Warn("call not confirmed", "error", err)
			return &answerError{reason: "no ack", bye: dlg.LoadState() != sip.DialogStateEnded}
		}
	}
	if c.answerFailed() {
		c.log.Warn("ACK carried no usable SDP answer; ending call")
		return &answerError{reason: "bad sdp in ack", bye: true}
	}
	c.log.Info("call answered")
	return nil
}

// failAnswer tears down a call whose answer failed.
func (c *Call) failAnswer(err error) {
	var ae *answerError
	if !errors.As(err, &ae) {
		ae = &answerError{reason: err.Error()}
	}
	c.teardown(ae.bye, ae.reason)
}
