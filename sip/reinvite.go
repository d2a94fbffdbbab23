package sip

import (
	"bytes"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sipagent/sipagent/media"
	"github.com/sipagent/sipagent/sip/sdp"
)

// onReInvite handles an INVITE inside a dialog: hold, unhold, a new media
// address or codec, or a session refresh (RFC 3261 s.14.2, RFC 3264 s.8).
// A failed re-INVITE leaves the call as it was.
func (s *Server) onReInvite(req *sip.Request, tx sip.ServerTransaction) {
	if c := s.inDialog(req, tx); c != nil {
		c.reInvite(req, tx)
	}
}

func (c *Call) reInvite(req *sip.Request, tx sip.ServerTransaction) {
	// s.14.2: a re-INVITE while another is pending gets 491. Until the
	// first INVITE's 2xx is ACKed that INVITE is still in progress, so a
	// re-INVITE then gets 500 with Retry-After, as does one whose CSeq is
	// lower than one already seen.
	retry := func() {
		respond(c.log, tx, newResponse(req, 500, "Server Internal Error", nil, sip.NewHeader("Retry-After", "1")))
	}
	if c.dlg.LoadState() != sip.DialogStateConfirmed {
		retry()
		return
	}
	// Claim the one re-INVITE slot in the same critical section as the
	// check, so that two overlapping re-INVITEs cannot both pass it.
	ackCh := make(chan struct{})
	c.mu.Lock()
	if c.reinviteAck != nil || c.awaitingAnswer || c.reoffering {
		c.mu.Unlock()
		respond(c.log, tx, newResponse(req, 491, "Request Pending", nil))
		return
	}
	c.reinviteAck = ackCh
	c.mu.Unlock()
	release := func() {
		c.mu.Lock()
		if c.reinviteAck == ackCh {
			c.reinviteAck, c.awaitingAnswer = nil, false
		}
		c.mu.Unlock()
	}

	if err := c.dlg.ReadRequest(req, tx); err != nil {
		release()
		retry()
		return
	}
	body := req.Body()
	if len(body) > 0 {
		if ct := req.ContentType(); ct == nil || !isSDP(ct.Value()) {
			release()
			respond(c.log, tx, newResponse(req, 415, "Unsupported Media Type", nil, sip.NewHeader("Accept", "application/sdp")))
			return
		}
	}

	c.mu.Lock()
	// Prefer the codec in use so a refresh does not switch codecs.
	prefs := preferFirst(c.srv.cfg.Codecs, c.neg.Codec)
	var answer []byte
	var neg sdp.Media
	offerInAck := len(body) == 0
	if offerInAck {
		answer = c.versioned(func(l sdp.Local) []byte { return sdp.Offer(prefs, l, sdp.SendRecv) })
	} else {
		var err error
		var m sdp.Media
		answer = c.versioned(func(l sdp.Local) []byte {
			var a []byte
			a, m, err = sdp.Negotiate(body, prefs, l)
			return a
		})
		if err != nil {
			c.mu.Unlock()
			release()
			se := sdpStatus(err)
			c.log.Info("re-INVITE refused", "status", se.Code, "error", err)
			respond(c.log, tx, newResponse(req, se.Code, se.Reason, nil, se.Headers...))
			return
		}
		neg = m
	}
	c.awaitingAnswer = offerInAck
	c.pendingCSeq = req.CSeq().SeqNo
	c.mu.Unlock()

	res := sip.NewSDPResponseFromRequest(req, answer)
	ct := c.srv.contact(c.ep)
	res.AppendHeader(&ct)
	if err := tx.Respond(res); err != nil {
		c.log.Info("re-INVITE answer not sent", "error", err)
		release()
		return
	}
	if !offerInAck {
		c.mu.Lock()
		changed := neg.Direction != c.neg.Direction
		hook := c.onReinvite
		c.neg = neg
		c.info.Codec = neg.Codec.Name
		c.mu.Unlock()
		if changed && hook != nil {
			go hook(neg.Direction)
		}
		if err := c.sess.Update(mediaUpdate(neg)); err != nil {
			c.log.Warn("media update refused", "error", err)
		}
		c.log.Info("media updated", "direction", string(neg.Direction), "remote", neg.Remote.String(), "codec", neg.Codec.Name)
	}
	c.retransmitUntilAck(tx, res, ackCh)
}

// retransmitUntilAck resends a 2xx to a re-INVITE over UDP until the ACK
// arrives: T1 doubling up to T2, for at most 64*T1, on any transport
// (RFC 3261 s.13.3.1.4, RFC 6026). It stops when the call ends.
func (c *Call) retransmitUntilAck(tx sip.ServerTransaction, res *sip.Response, ackCh chan struct{}) {
	interval := sip.T1
	giveUp := time.NewTimer(64 * sip.T1)
	defer giveUp.Stop()
	tick := time.NewTimer(interval)
	defer tick.Stop()
	for {
		select {
		case <-ackCh:
			return
		case <-c.dlg.Context().Done():
			return
		case <-c.done:
			return
		case <-giveUp.C:
			c.log.Warn("no ACK for re-INVITE answer; ending call")
			c.mu.Lock()
			if c.reinviteAck == ackCh {
				c.reinviteAck = nil
			}
			c.mu.Unlock()
			c.hangup("no ack")
			return
		case <-tick.C:
			// Even over TCP: a UDP hop beyond a proxy may lose it.
			_ = tx.Respond(res)
			interval = min(2*interval, sip.T2)
			tick.Reset(interval)
		}
	}
}

// versioned builds a new local SDP with build and keeps the o= version
// unless the SDP changed, when it grows by one (RFC 3264 s.8). Call with
// c.mu held.
func (c *Call) versioned(build func(sdp.Local) []byte) []byte {
	b := build(c.local)
	if b == nil || bytes.Equal(b, c.localSDP) {
		return b
	}
	c.local.Version++
	b = build(c.local)
	c.localSDP = b
	return b
}

// preferFirst returns codecs with first moved to the front.
func preferFirst(codecs []media.Codec, first media.Codec) []media.Codec {
	out := make([]media.Codec, 0, len(codecs))
	out = append(out, first)
	for _, c := range codecs {
		if c != first {
			out = append(out, c)
		}
	}
	return out
}
