package transfer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/media"
	"github.com/sipagent/sipagent/sip"
)

// errSecure refuses ;secure=true targets: the media layer has no SRTP,
// and dialling in the clear what was asked to be secret is worse than
// not dialling.
var errSecure = errors.New("transfer: secure (SRTP) targets are not supported")

// checkTLS refuses sips: targets. sip:...;transport=tls is dialled over
// TLS; a sips: URI asks for TLS on every hop to the target and a sips:
// Contact back (RFC 5630 s.4), which sipagent does not offer.
func checkTLS(t Target) error {
	if t.URI.Scheme == "sips" {
		return fmt.Errorf("transfer: %s: sips: targets are not supported; use sip:...;transport=tls", t.String())
	}
	return nil
}

// bridge places a call to t and relays its media to and from c, as TwiML
// <Dial><Sip> does, until either side hangs up, t's time limit passes, or
// (hangupOnStar) the caller presses *.
//
// While the target rings the caller hears it: its early media (183) is
// relayed at once, and its 180 becomes 180 to a caller not yet answered
// (AnswerOnBridge) or a ringback tone to one who is. RTP is relayed
// packet by packet (media.Relay), transcoded between PCMU and PCMA where
// the legs differ, with no jitter buffer or pacing in the way.
func (s *Service) bridge(ctx context.Context, c *sip.Call, t Target) (agent.TransferResult, error) {
	if t.Secure {
		return agent.TransferResult{Status: "failed"}, errSecure
	}
	if err := checkTLS(t); err != nil {
		return agent.TransferResult{Status: "failed"}, err
	}
	if !t.AnswerOnBridge {
		if err := c.Answer(ctx); err != nil {
			return agent.TransferResult{Status: "failed"}, err
		}
	}
	log := s.log.With("call_id", c.Info().CallID, "target", t.String())
	b := &bridgeCall{caller: c, callerCtx: ctx, t: t, log: log, ended: make(chan bridgeEnd, 1)}
	defer b.unlink()
	defer b.stopRingback()

	req := dialRequest(t)
	req.Progress = b.progress
	log.Info("bridging: calling the target", "answer_on_bridge", t.AnswerOnBridge)
	if _, err := c.Server().DialURI(ctx, req, agent.AgentFunc(b.serveTarget)); err != nil {
		res := dialFailure(err)
		log.Info("bridge not established", "status", res.Status, "sip_code", res.SIPCode, "error", err)
		return res, nil
	}
	end := <-b.ended
	if end.err != nil {
		log.Info("bridge not joined", "error", end.err)
		return agent.TransferResult{Status: "failed", SIPCode: 200}, end.err
	}
	log.Info("bridge ended", "duration", end.d.Round(time.Millisecond))
	return agent.TransferResult{Status: "completed", SIPCode: 200}, nil
}

// bridgeCall is one bridge: the caller's leg, and the relay to the
// target's media once there is some.
type bridgeCall struct {
	caller    *sip.Call
	callerCtx context.Context
	t         Target
	log       *slog.Logger
	ended     chan bridgeEnd

	mu       sync.Mutex
	relay    *media.Relay
	relayTo  *media.Session
	ringback context.CancelFunc // stops the ringback tone; nil if none plays
}

// bridgeEnd is how a bridge whose target answered ended: after d, or
// never joined because of err.
type bridgeEnd struct {
	d   time.Duration
	err error
}

// progress passes the target's ringing on to the caller. It runs in the
// dialling goroutine and must not block for long.
func (b *bridgeCall) progress(p sip.Progress) {
	c := b.caller
	switch {
	case p.Media != nil:
		// Early media: the caller hears what the target sends.
		if !c.Answered() {
			_ = c.EarlyMedia(b.callerCtx)
		}
		b.stopRingback()
		if err := b.link(p.Media); err != nil {
			b.log.Info("early media not relayed", "error", err)
		}
	case p.Code >= 180 && p.Code <= 182:
		if !c.Answered() {
			_ = c.Ringing(b.callerCtx)
			return
		}
		b.startRingback()
	}
}

// serveTarget runs on the target's leg once it answers: it answers a
// caller still ringing, joins the legs' media and holds them together
// until the bridge ends.
func (b *bridgeCall) serveTarget(ctx context.Context, leg agent.Call) error {
	b.stopRingback()
	target, ok := leg.(*sip.Call)
	if !ok {
		err := fmt.Errorf("transfer: target leg is %T, not a SIP call", leg)
		b.ended <- bridgeEnd{err: err}
		return err
	}
	// With answerOnBridge the caller is answered only now; one who gave
	// up meanwhile ends the target's leg too.
	if err := b.caller.Answer(b.callerCtx); err != nil {
		b.ended <- bridgeEnd{err: fmt.Errorf("transfer: caller gone before the bridge: %w", err)}
		return nil
	}
	if err := b.link(target.Media()); err != nil {
		b.ended <- bridgeEnd{err: fmt.Errorf("transfer: joining the media: %w", err)}
		return err
	}
	// Hold on one leg is carried to the other (RFC 3264 s.8.4): the
	// side put on hold hears nothing from us either way, but a phone
	// told so can show it, and play its own music.
	mctx, stopMirror := context.WithCancel(ctx)
	var mirrors sync.WaitGroup
	mirrors.Go(func() { b.carryHold(mctx, b.caller, target) })
	mirrors.Go(func() { b.carryHold(mctx, target, b.caller) })
	defer mirrors.Wait()
	defer stopMirror()
	start := time.Now()
	hold(ctx, b.callerCtx, b.caller, target, b.t)
	b.unlink()
	b.ended <- bridgeEnd{d: time.Since(start)}
	return nil // the target's leg ends with BYE
}

// link relays media between the caller and to, replacing a relay to
// another session (early media of one fork, then the answer of another).
func (b *bridgeCall) link(to *media.Session) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.relayTo == to && b.relay != nil {
		return nil
	}
	if b.relay != nil {
		_ = b.relay.Close()
		b.relay, b.relayTo = nil, nil
	}
	r, err := media.NewRelay(b.caller.Media(), to)
	if err != nil {
		return err
	}
	b.relay, b.relayTo = r, to
	return nil
}

func (b *bridgeCall) unlink() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.relay != nil {
		_ = b.relay.Close()
		b.relay, b.relayTo = nil, nil
	}
}

// startRingback plays a ringback tone to the (answered) caller while the
// target rings without early media.
func (b *bridgeCall) startRingback() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ringback != nil || b.relay != nil {
		return
	}
	ctx, cancel := context.WithCancel(b.callerCtx)
	b.ringback = cancel
	go playRingback(ctx, b.caller)
}

func (b *bridgeCall) stopRingback() {
	b.mu.Lock()
	stop := b.ringback
	b.ringback = nil
	b.mu.Unlock()
	if stop != nil {
		stop()
		b.caller.ClearAudio()
	}
}

// hold keeps the bridge up until the target's leg ends (ctx), the caller's
// does (callerCtx), the time limit passes or, with hangupOnStar, the
// caller presses *. Key presses travel with the relayed RTP; the ones
// read here are drained so that none reaches the agent afterwards.
func hold(ctx, callerCtx context.Context, caller, target agent.Call, t Target) {
	ctx, cancel := context.WithTimeout(ctx, t.TimeLimit)
	defer cancel()
	defer context.AfterFunc(callerCtx, cancel)()
	var wg sync.WaitGroup
	wg.Go(func() { drainDTMF(ctx, cancel, caller, t.HangupOnStar) })
	wg.Go(func() { drainDTMF(ctx, cancel, target, false) })
	wg.Go(func() {
		// The media ending on either leg (RTP timeout, teardown) ends
		// the bridge too.
		select {
		case <-ctx.Done():
		case <-mediaDone(caller):
		case <-mediaDone(target):
		}
		cancel()
	})
	wg.Wait()
}

func mediaDone(c agent.Call) <-chan struct{} {
	if sc, ok := c.(*sip.Call); ok {
		return sc.Media().Done()
	}
	return nil
}

// drainDTMF reads from's key presses until ctx ends. With hangupOnStar a
// * ends the bridge (TwiML <Dial hangupOnStar>).
func drainDTMF(ctx context.Context, stop context.CancelFunc, from agent.Call, hangupOnStar bool) {
	for {
		select {
		case <-ctx.Done():
			return
		case d, ok := <-from.DTMF():
			if !ok {
				stop()
				return
			}
			if d == '*' && hangupOnStar {
				stop()
				return
			}
		}
	}
}

// dialFailure maps a failed dial onto DialCallStatus words.
func dialFailure(err error) agent.TransferResult {
	if errors.Is(err, sip.ErrNotRegistered) {
		// What a proxy answers for a user with no contact.
		return agent.TransferResult{Status: "no-answer", SIPCode: 480}
	}
	var de *sip.DialError
	if !errors.As(err, &de) {
		return agent.TransferResult{Status: "failed"}
	}
	switch de.Code {
	case 0, 408, 480, 487:
		return agent.TransferResult{Status: "no-answer", SIPCode: de.Code}
	case 486, 600:
		return agent.TransferResult{Status: "busy", SIPCode: de.Code}
	default:
		return agent.TransferResult{Status: "failed", SIPCode: de.Code}
	}
}

// dialRequest is how the sip layer is asked to call t.
func dialRequest(t Target) sip.DialRequest {
	headers := make([]agent.Header, len(t.Headers))
	for i, h := range t.Headers {
		headers[i] = agent.Header{Name: h.Name, Value: h.Value}
	}
	return sip.DialRequest{
		User:      t.Client,
		URI:       t.URI,
		Transport: t.Transport,
		Headers:   headers,
		Username:  t.Username,
		Password:  t.Password,
		CallerID:  t.CallerID,
		Timeout:   t.Timeout,
	}
}
