package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/media"
	"github.com/sipagent/sipagent/sip/sdp"
)

// byeTimeout bounds how long sipagent waits for the answer to its BYE.
const byeTimeout = 5 * time.Second

// dialog is what a Call needs of its sipgo dialog session, inbound
// (*sipgo.DialogServerSession) or outbound (*sipgo.DialogClientSession).
type dialog interface {
	Context() context.Context
	LoadState() sip.DialogState
	ReadRequest(req *sip.Request, tx sip.ServerTransaction) error
	ReadBye(req *sip.Request, tx sip.ServerTransaction) error
	TransactionRequest(ctx context.Context, req *sip.Request) (sip.ClientTransaction, error)
	Close() error
}

// Call is one answered call, inbound or placed by Dial. It implements
// agent.Call, which is all an agent sees of it.
type Call struct {
	srv     *Server
	log     *slog.Logger
	dlg     dialog
	id      string                     // the registry key: the dialog ID as in-dialog requests carry it
	srvDlg  *sipgo.DialogServerSession // set for inbound calls
	cliDlg  *sipgo.DialogClientSession // set for calls sipagent placed
	ep      endpoint
	info    agent.Info
	agent   agent.Agent
	sess    *media.Session
	rtpPort int
	start   time.Time

	hangupCh chan string      // buffered(1): why sipagent should end the call
	redirect chan agent.Agent // the agent to take the call over (Redirect)

	mu             sync.Mutex
	local          sdp.Local           // our o= line identity; Version grows with changes
	localSDP       []byte              // the SDP we last sent
	neg            sdp.Media           // the media in force
	awaitingAnswer bool                // our 2xx carried an offer; the ACK must answer
	pendingCSeq    uint32              // CSeq of the INVITE whose 2xx awaits its ACK
	badAnswer      bool                // the ACK's answer was missing or unusable
	byeReceived    bool                // the caller's BYE came, perhaps ahead of its ACK
	reinviteAck    chan struct{}       // closed when a re-INVITE's ACK arrives; nil if none is pending
	referProgress  chan referProgress  // NOTIFYs of the REFER in progress; nil if none
	earlySent      bool                // 183 with SDP went to the caller
	reoffering     bool                // our re-INVITE is in progress
	onReinvite     func(sdp.Direction) // told of direction changes; nil if no one listens

	// answered is set once our 2xx is sent (at once for calls we place);
	// pending is non-nil for a call whose agent deferred the answer.
	answered atomic.Bool
	pending  *pendingAnswer

	done chan struct{} // closed by teardown

	teardownOnce sync.Once

	// rtpCounted is the part of the session's counters already in the
	// server's totals; rtpDone is set by the final count (countRTP).
	rtpMu      sync.Mutex
	rtpCounted media.Stats
	rtpDone    bool
}

var _ agent.Call = (*Call)(nil)

// Info returns the call's facts. Codec follows renegotiation; the rest
// is fixed when the call is answered.
func (c *Call) Info() agent.Info {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.info
}

// ReadAudio returns the next 20 ms of the caller's audio.
func (c *Call) ReadAudio(ctx context.Context, frame []int16) (int, error) {
	if err := c.ensureAnswered(ctx); err != nil {
		return 0, err
	}
	n, err := c.sess.ReadFrame(ctx, frame)
	return n, hangupErr(err)
}

// WriteAudio queues audio for the caller.
func (c *Call) WriteAudio(ctx context.Context, pcm []int16) error {
	if err := c.ensureAnswered(ctx); err != nil {
		return err
	}
	return hangupErr(c.sess.Write(ctx, pcm))
}

// ClearAudio drops queued audio at once.
func (c *Call) ClearAudio() { c.sess.Clear() }

// WaitPlayed waits until queued audio has been played.
func (c *Call) WaitPlayed(ctx context.Context) error {
	if err := c.ensureAnswered(ctx); err != nil {
		return err
	}
	return hangupErr(c.sess.WaitPlayed(ctx))
}

// DTMF delivers the caller's key presses.
func (c *Call) DTMF() <-chan rune { return c.sess.DTMF() }

// Transfer forwards the call through the server's Transferrer, or fails
// with agent.ErrTransferUnsupported when none is configured.
func (c *Call) Transfer(ctx context.Context, req agent.TransferRequest) (agent.TransferResult, error) {
	if c.srv.cfg.Transferrer == nil {
		return agent.TransferResult{Status: "failed"}, agent.ErrTransferUnsupported
	}
	return c.srv.cfg.Transferrer.Transfer(ctx, c, req)
}

// Hangup ends the call with a BYE; it does not wait.
func (c *Call) Hangup(reason string) { c.hangup(reason) }

// agentFailed reports whether an agent's return value is a failure rather
// than the call ending under it.
func agentFailed(err error) bool {
	return err != nil && !errors.Is(err, agent.ErrHangup) && !errors.Is(err, context.Canceled)
}

func hangupErr(err error) error {
	if errors.Is(err, media.ErrClosed) {
		return agent.ErrHangup
	}
	return err
}

// hangup asks the call to end with a BYE; it never blocks.
func (c *Call) hangup(reason string) {
	select {
	case c.hangupCh <- reason:
	default:
	}
}

// run drives an answered call: the agent runs until it returns, the
// caller hangs up, RTP stops arriving, or the server ends the call.
func (c *Call) run() {
	defer c.srv.callWG.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	agentCtx, stopAgent := context.WithCancel(ctx)
	agentDone := c.serve(agentCtx, c.agent)

	var reason string
	sendBye := true
	agentReturned := false
wait:
	for {
		select {
		case err := <-agentDone:
			agentReturned = true
			reason = "agent hung up"
			if agentFailed(err) {
				c.srv.stats.agentFailed()
				c.log.Warn("agent failed", "error", err)
				reason = "agent error"
			}
			break wait
		case next := <-c.redirect:
			// The agent in charge stops (its context ends, so its
			// blocking calls return) and the next one takes the call
			// over, with the old one's queued audio dropped.
			stopAgent()
			if err := <-agentDone; agentFailed(err) {
				c.log.Info("agent ended with an error when the call was redirected", "error", err)
			}
			c.sess.Clear()
			agentCtx, stopAgent = context.WithCancel(ctx)
			agentDone = c.serve(agentCtx, next)
			c.log.Info("call redirected to another agent")
		case <-c.dlg.Context().Done():
			reason, sendBye = "caller hung up", false
			break wait
		case <-c.sess.Done():
			reason = "media ended"
			if errors.Is(c.sess.Err(), media.ErrRTPTimeout) {
				reason = "rtp timeout"
			}
			break wait
		case reason = <-c.hangupCh:
			break wait
		}
	}
	stopAgent()
	cancel()
	if agentReturned {
		c.refuseUnanswered(480)
	} else {
		c.refuseUnanswered(503)
	}
	c.teardown(sendBye, reason)
	if !agentReturned {
		// The session is closed, so the agent's blocking calls return.
		if err := <-agentDone; agentFailed(err) {
			c.srv.stats.agentFailed()
			c.log.Info("agent ended with an error after the call ended", "error", err)
		}
	}
	c.srv.calls.release()
}

// serve runs ag on the call in a goroutine of its own and returns the
// channel its result arrives on; a panic is its result too.
func (c *Call) serve(ctx context.Context, ag agent.Agent) <-chan error {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("agent panicked: %v", r)
			}
		}()
		done <- ag.Serve(ctx, c)
	}()
	return done
}

// teardown ends the call once: BYE if asked and the dialog is up, then the
// media session, the RTP port and the registry entry.
func (c *Call) teardown(sendBye bool, reason string) {
	c.teardownOnce.Do(func() {
		defer close(c.done)
		if sendBye && c.answered.Load() && c.dlg.LoadState() != sip.DialogStateEnded {
			ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
			if err := c.bye(ctx); err != nil {
				c.log.Info("BYE not answered", "error", err)
			}
			cancel()
		}
		_ = c.sess.Close()
		c.srv.cfg.Ports.Release(c.rtpPort)
		c.srv.calls.remove(c.id)
		_ = c.dlg.Close()
		st := c.countRTP(true)
		c.srv.stats.callEnded(reason, c.answered.Load())
		c.log.Info("call ended", "reason", reason, "duration", time.Since(c.start).Round(time.Millisecond),
			"rtp_in", st.PacketsIn, "rtp_out", st.PacketsOut, "rtp_lost", st.Lost)
	})
}

// bye sends our BYE with a Via naming the address the caller reached us
// on, rather than a wildcard listener address (RFC 3261 s.18.1.1), from
// the socket the call came in on.
func (c *Call) bye(ctx context.Context) error {
	if c.cliDlg != nil {
		bye := c.srv.newRequest(sip.BYE, remoteTarget(c.cliDlg.InviteRequest, c.cliDlg.InviteResponse), c.ep)
		return c.cliDlg.WriteBye(ctx, bye)
	}
	inv := c.srvDlg.InviteRequest
	bye := c.srv.newRequest(sip.BYE, inv.Contact().Address, c.ep)
	return c.srvDlg.WriteBye(ctx, bye)
}

// newRequest starts a request that leaves from endpoint ep: a Via naming
// the address the far end reaches us on rather than a wildcard listener
// address (RFC 3261 s.18.1.1) with rport (RFC 3581), sent over UDP from
// the listener itself. Left to itself, sipgo opens a new socket for an
// address it has not heard from (a Contact on another port than the
// source), sends from an ephemeral port the far end does not know, and
// orphans that socket and its reader once the listener hears from the
// address.
func (s *Server) newRequest(method sip.RequestMethod, target sip.Uri, ep endpoint) *sip.Request {
	req := sip.NewRequest(method, target)
	req.SetTransport(sip.NetworkToUpper(ep.transport))
	via := &sip.ViaHeader{
		ProtocolName:    "SIP",
		ProtocolVersion: "2.0",
		Transport:       sip.NetworkToUpper(ep.transport),
		Host:            s.contact(ep).Address.Host,
		Port:            ep.port,
		Params:          sip.NewParams(),
	}
	via.Params.Add("branch", sip.GenerateBranch())
	via.Params.Add("rport", "")
	req.AppendHeader(via)
	if ep.transport == "udp" {
		req.Laddr = sip.Addr{IP: ep.bind.AsSlice(), Port: ep.port}
	}
	return req
}

// remoteTarget is where in-dialog requests of a dialog we started go: the
// Contact of the 2xx (RFC 3261 s.12.1.2).
func remoteTarget(inv *sip.Request, res *sip.Response) sip.Uri {
	if ct := res.Contact(); ct != nil {
		return ct.Address
	}
	return inv.Recipient
}

// remoteBye answers the caller's BYE; run sees the dialog end.
func (c *Call) remoteBye(req *sip.Request, tx sip.ServerTransaction) {
	c.mu.Lock()
	c.byeReceived = true
	c.mu.Unlock()
	if err := c.dlg.ReadBye(req, tx); err != nil {
		respondErr(c.log, req, tx, statusErr(500, "Server Internal Error", err))
	}
}

// ack confirms the dialog and, where our 2xx carried an offer, applies the
// answer it brings.
func (c *Call) ack(req *sip.Request, tx sip.ServerTransaction) {
	c.mu.Lock()
	if c.byeReceived {
		// sipgo runs each request on its own goroutine, so a BYE sent
		// right after the ACK can be handled first. The dialog is over;
		// confirming it now would revive it in sipgo's eyes and make us
		// send a BYE nobody answers.
		c.mu.Unlock()
		return
	}
	// Only the ACK for the INVITE whose 2xx is outstanding settles it: a
	// late or duplicate ACK for an earlier one must not use up the answer
	// or the wait of a later re-INVITE (sipgo may hand them over in any
	// order).
	matches := req.CSeq() != nil && req.CSeq().SeqNo == c.pendingCSeq
	if matches && c.awaitingAnswer {
		c.awaitingAnswer = false
		if m, err := sdp.ParseAnswer(req.Body(), c.offeredCodecs()); err != nil {
			c.badAnswer = true
			c.log.Info("answer in ACK refused", "error", err)
		} else {
			c.neg = m
			c.info.Codec = m.Codec.Name
			if err := c.sess.Update(mediaUpdate(m)); err != nil {
				c.badAnswer = true
				c.log.Info("answer in ACK unusable", "error", err)
			}
		}
	}
	if matches && c.reinviteAck != nil {
		close(c.reinviteAck)
		c.reinviteAck = nil
	}
	c.mu.Unlock()
	if c.srvDlg == nil {
		return // an ACK of the far end's re-INVITE on a call we placed
	}
	if err := c.srvDlg.ReadAck(req, tx); err != nil {
		c.log.Debug("ACK does not match", "error", err)
	}
}

// hungUpByCaller reports whether the caller's BYE has arrived.
func (c *Call) hungUpByCaller() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byeReceived
}

func (c *Call) answerFailed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.badAnswer
}

func (c *Call) offeredCodecs() []media.Codec { return c.srv.cfg.Codecs }

// mediaUpdate turns a negotiation outcome into a media session update.
func mediaUpdate(m sdp.Media) media.Update {
	return media.Update{
		Remote:          m.Remote,
		Codec:           m.Codec.WithPayloadType(m.PayloadType),
		DTMFPayloadType: m.DTMFPayloadType,
		Ptime:           m.Ptime,
		Direction:       mediaDirection(m.Direction),
	}
}

// mediaDirection maps an SDP direction (ours, as in our answer) onto the
// media session's.
func mediaDirection(d sdp.Direction) media.Direction {
	switch d {
	case sdp.SendOnly:
		return media.SendOnly
	case sdp.RecvOnly:
		return media.RecvOnly
	case sdp.Inactive:
		return media.Inactive
	}
	return media.SendRecv
}

// Media returns the call's media session, for services that relay it
// to another call (a bridge transfer). Agents never see it.
func (c *Call) Media() *media.Session { return c.sess }

// Server returns the server the call belongs to, for services that place
// further calls on its behalf (a bridge transfer).
func (c *Call) Server() *Server { return c.srv }

// SendDTMF sends a key press to the far end as RFC 4733 events, for a
// bridge relaying the other leg's keys. It fails with media.ErrNoDTMF
// when the far end did not negotiate telephone-event.
func (c *Call) SendDTMF(ctx context.Context, digit rune) error {
	return hangupErr(c.sess.SendDTMF(ctx, digit, 0))
}
