package sip

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/media"
	"github.com/sipagent/sipagent/sip/sdp"
)

// onInvite handles every INVITE. One with a To tag belongs to a dialog
// (a re-INVITE); the others start calls. sipgo terminates an INVITE
// transaction when its handler returns, so this blocks through call setup
// until the ACK.
func (s *Server) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if se := validateRequest(req); se != nil {
		s.log.Info("invite rejected", "call_id", callID(req), "status", se.Code, "reason", se.Reason, "source", req.Source())
		respondErr(s.log, req, tx, se)
		return
	}
	if to := req.To(); to != nil {
		if _, ok := to.Params.Get("tag"); ok {
			s.onReInvite(req, tx)
			return
		}
	}
	caller, ok := s.admitCaller(req, tx, s.log.With("call_id", callID(req)))
	if !ok {
		return
	}
	if err := s.admit(); err != nil {
		if errors.Is(err, errCallLimit) {
			if n, ok := s.limitLog.tick(time.Now()); ok {
				s.log.Warn("call limit reached; refusing calls with 503", "max_calls", s.cfg.MaxCalls, "refused", n)
			}
		}
		respondErr(s.log, req, tx, err)
		return
	}
	c, err := s.setupCall(req, tx, caller)
	if err != nil {
		s.calls.release()
		s.callWG.Done()
		return
	}
	go c.run()
	if c.pending != nil {
		c.holdInvite()
	}
}

// setupCall answers an INVITE and returns the confirmed call, or an error
// once the INVITE has been answered with a failure (or cancelled).
func (s *Server) setupCall(req *sip.Request, tx sip.ServerTransaction, caller agent.Caller) (*Call, error) {
	log := s.log.With("call_id", callID(req))
	respond(log, tx, newResponse(req, 100, "Trying", nil))

	info := callInfo(req)
	info.Caller = caller
	ag, account, err := s.route(info, req)
	info.Account = account
	if err != nil {
		var se *StatusError
		if !errors.As(err, &se) {
			err = statusErr(404, "Not Found", err)
		}
		return nil, s.reject(log, req, tx, err)
	}

	ep := s.localEndpoint(req, tx)
	body := req.Body()
	if len(body) > 0 {
		if ct := req.ContentType(); ct == nil || !isSDP(ct.Value()) {
			return nil, s.reject(log, req, tx, statusErr(415, "Unsupported Media Type", nil,
				sip.NewHeader("Accept", "application/sdp")))
		}
	}

	conn, err := s.cfg.Ports.Listen(ep.bind)
	if err != nil {
		return nil, s.reject(log, req, tx, statusErr(503, "Service Unavailable", err, sip.NewHeader("Retry-After", "5")))
	}
	rtpPort := conn.LocalAddr().(*net.UDPAddr).AddrPort().Port()
	local := sdp.Local{Addr: ep.advertise, Port: int(rtpPort), SessionID: newSessionID(), Version: 1, Username: "sipagent"}

	// With an offer in the INVITE we answer in the 200; without one we
	// offer in the 200 and the answer comes in the ACK (RFC 3264 s.5).
	var localSDP []byte
	var neg sdp.Media
	awaitingAnswer := len(body) == 0
	if awaitingAnswer {
		localSDP = sdp.Offer(s.cfg.Codecs, local, sdp.SendRecv)
		// Until the answer arrives we send nothing: the remote address is
		// unknown (the session waits for it, or for the caller's RTP).
		neg = sdp.Media{Codec: s.cfg.Codecs[0], PayloadType: s.cfg.Codecs[0].PayloadType,
			DTMFPayloadType: -1, Ptime: sdp.DefaultPtime, Direction: sdp.SendRecv}
	} else {
		localSDP, neg, err = sdp.Negotiate(body, s.cfg.Codecs, local)
		if err != nil {
			_ = conn.Close()
			s.cfg.Ports.Release(int(rtpPort))
			return nil, s.reject(log, req, tx, sdpStatus(err))
		}
	}
	info.Codec = neg.Codec.Name

	sess, err := media.NewSession(s.mediaConfig(conn, neg, log))
	if err != nil {
		_ = conn.Close()
		s.cfg.Ports.Release(int(rtpPort))
		return nil, s.reject(log, req, tx, err)
	}

	ct := s.contact(ep)
	dua := &sipgo.DialogUA{
		Client:     s.client,
		ContactHDR: ct,
		// In-dialog requests (our BYE) go where the caller's requests
		// come from when it is behind NAT or on a connection transport
		// (RFC 3581 s.4; reuse the connection, RFC 5923 s.1).
		RewriteContact: ep.transport != "udp" || !contactMatchesSource(req),
	}
	dlg, err := dua.ReadInvite(req, tx)
	if err != nil {
		_ = sess.Close()
		s.cfg.Ports.Release(int(rtpPort))
		return nil, s.reject(log, req, tx, statusErr(400, "Bad Request", err))
	}

	c := &Call{
		srv:            s,
		log:            log,
		dlg:            dlg,
		id:             dlg.ID,
		srvDlg:         dlg,
		ep:             ep,
		info:           info,
		agent:          ag,
		sess:           sess,
		rtpPort:        int(rtpPort),
		local:          local,
		localSDP:       localSDP,
		neg:            neg,
		awaitingAnswer: awaitingAnswer,
		pendingCSeq:    req.CSeq().SeqNo,
		hangupCh:       make(chan string, 1),
		redirect:       make(chan agent.Agent),
		done:           make(chan struct{}),
		start:          time.Now(),
	}
	s.calls.add(dlg.ID, c)
	log.Info("call offered", "from", info.From, "to", info.To, "source", info.Source.String(),
		"transport", ep.transport, "codec", neg.Codec.Name, "offer_in_ack", awaitingAnswer)

	if s.cfg.RingTime > 0 {
		if err := c.ring(s.cfg.RingTime); err != nil {
			var hu *hungUpError
			if errors.As(err, &hu) {
				// The server is ending the call before answering it:
				// the INVITE still needs its final response (RFC 3261
				// s.13.3.1), with the To tag the 180 carried.
				log.Info("call refused while ringing", "reason", hu.reason)
				_ = c.srvDlg.Respond(503, "Service Unavailable", nil, sip.NewHeader("Retry-After", "30"))
				c.teardown(false, hu.reason)
				return nil, err
			}
			log.Info("call cancelled by caller while ringing")
			c.teardown(false, "cancelled")
			return nil, err
		}
	}

	if defersAnswer(ag, info) {
		// The agent answers when it is ready (see answer.go); the
		// media starts then, or with early media.
		c.pending = newPendingAnswer()
		log.Info("call ringing; the agent answers")
		return c, nil
	}
	// answer blocks, retransmitting the 2xx over UDP, until the ACK
	// arrives (RFC 3261 s.13.3.1.4), a CANCEL wins the race, or the
	// transaction times out.
	if err := c.answer(); err != nil {
		c.failAnswer(err)
		return nil, err
	}
	return c, nil
}

// route picks the agent: a call for a registration account goes to that
// account's agent; any other call to the Router's choice.
func (s *Server) route(info agent.Info, req *sip.Request) (ag agent.Agent, account string, err error) {
	if r := s.accounts.match(req.Recipient, req.To()); r != nil {
		return r.acct.Agent, r.acct.Name, nil
	}
	ag, err = s.cfg.Router.Route(info)
	return ag, "", err
}

// reject answers the INVITE with the failure err calls for and logs it.
func (s *Server) reject(log *slog.Logger, req *sip.Request, tx sip.ServerTransaction, err error) error {
	se := asStatus(err)
	s.stats.rejected()
	log.Info("call rejected", "status", se.Code, "reason", se.Reason, "error", se.Err, "source", req.Source())
	respond(s.log, tx, newResponse(req, se.Code, se.Reason, nil, se.Headers...))
	return se
}

func (s *Server) mediaConfig(conn *net.UDPConn, neg sdp.Media, log *slog.Logger) media.Config {
	u := mediaUpdate(neg)
	return media.Config{
		Conn:            conn,
		Remote:          u.Remote,
		Codec:           u.Codec,
		DTMFPayloadType: u.DTMFPayloadType,
		Ptime:           u.Ptime,
		Direction:       u.Direction,
		JitterDepth:     s.cfg.JitterDepth,
		RTPTimeout:      s.cfg.RTPTimeout,
		Logger:          log,
	}
}

// isSDP reports whether a Content-Type value is application/sdp,
// ignoring parameters and case (RFC 3261 s.20.15).
func isSDP(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/sdp")
}

// sdpStatus maps a negotiation failure to its response: sip/sdp errors
// carry the status and Warning (RFC 3261 s.20.43); anything else is 488.
func sdpStatus(err error) *StatusError {
	var se *sdp.Error
	if errors.As(err, &se) {
		return statusErr(se.Code, reasonPhrase(se.Code), err, sip.NewHeader("Warning", se.Warning))
	}
	return statusErr(488, "Not Acceptable Here", err)
}

func reasonPhrase(code int) string {
	switch code {
	case 400:
		return "Bad Request"
	case 415:
		return "Unsupported Media Type"
	case 488:
		return "Not Acceptable Here"
	}
	return "Not Acceptable Here"
}

// newSessionID returns an o= session id below 2^63: some peers parse it
// as a signed 64-bit number and answer 488 otherwise.
func newSessionID() uint64 {
	return rand.Uint64() >> 1
}

// callInfo collects the facts an agent may act on.
func callInfo(req *sip.Request) agent.Info {
	info := agent.Info{
		Direction:  "inbound",
		CallID:     callID(req),
		RequestURI: req.Recipient.String(),
		Transport:  strings.ToLower(req.Transport()),
	}
	if f := req.From(); f != nil {
		info.From = f.Address.String()
		info.FromName = f.DisplayName
	}
	if t := req.To(); t != nil {
		info.To = t.Address.String()
	}
	info.Source, _ = netip.ParseAddrPort(req.Source())
	for _, h := range req.Headers() {
		info.Headers = append(info.Headers, agent.Header{Name: h.Name(), Value: h.Value()})
	}
	return info
}

func callID(req *sip.Request) string {
	if id := req.CallID(); id != nil {
		return id.Value()
	}
	return ""
}

func contactMatchesSource(req *sip.Request) bool {
	ct := req.Contact()
	src, err := netip.ParseAddrPort(req.Source())
	if ct == nil || err != nil {
		return false
	}
	ip, err := netip.ParseAddr(ct.Address.Host)
	return err == nil && ip.Unmap() == src.Addr().Unmap()
}

// ring sends 180 Ringing and waits d before the call is answered; a
// CANCEL in that time ends the wait (sipgo answers it with 200 and 487).
func (c *Call) ring(d time.Duration) error {
	if err := c.srvDlg.Respond(180, "Ringing", nil); err != nil {
		return err
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-c.dlg.Context().Done():
		return context.Cause(c.dlg.Context())
	case reason := <-c.hangupCh:
		return &hungUpError{reason: reason}
	}
}

// hungUpError says the server ended a call before answering it.
type hungUpError struct{ reason string }

func (e *hungUpError) Error() string { return "ended while ringing: " + e.reason }
