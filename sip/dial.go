package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/media"
	"github.com/sipagent/sipagent/sip/sdp"
)

// DefaultRingTimeout bounds how long Dial lets a phone ring when its
// context has no deadline.
const DefaultRingTimeout = 30 * time.Second

// ErrNotRegistered is returned by Dial for a user with no registered
// contact.
var ErrNotRegistered = errors.New("sip: user is not registered")

// DialError is a call Dial placed that was not answered: busy (486),
// declined (603), no answer (408 or the ring timeout, Code 0 when no final
// response came), or refused otherwise.
type DialError struct {
	Code   int
	Reason string
	Err    error
}

func (e *DialError) Error() string {
	if e.Code == 0 {
		return fmt.Sprintf("sip: call not answered: %v", e.Err)
	}
	return fmt.Sprintf("sip: call refused: %d %s", e.Code, e.Reason)
}

func (e *DialError) Unwrap() error { return e.Err }

// Dial calls a user registered to sipagent's registrar at the contact
// it registered most recently, and runs ag on the call once it is
// answered. It returns when the call is answered, with the call's
// Call-ID, or fails; the call then runs like an inbound one, counted
// against max_calls. Cancelling ctx before the answer sends CANCEL.
//
// The INVITE goes to where the user's REGISTER came from (over the same
// connection for TCP), not necessarily to the Contact's address: a
// softphone behind NAT can be reached only through the binding its
// REGISTER opened.
func (s *Server) Dial(ctx context.Context, user string, ag agent.Agent) (string, error) {
	if s.registrar == nil {
		return "", ErrNotRegistered
	}
	bs := s.registrar.lookup(user)
	if len(bs) == 0 || !bs[0].Source.IsValid() {
		return "", ErrNotRegistered
	}
	if err := s.admit(); err != nil {
		return "", err
	}
	c, err := s.placeCall(ctx, bs[0], ag)
	if err != nil {
		s.calls.release()
		s.callWG.Done()
		return "", err
	}
	go c.run()
	return c.info.CallID, nil
}

func (s *Server) placeCall(ctx context.Context, b Binding, ag agent.Agent) (*Call, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultRingTimeout)
		defer cancel()
	}
	// Shutdown cancels a call still ringing (with CANCEL).
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.drainCtx, cancel)()
	ep := s.outboundEndpoint(b)
	if ep.port == 0 {
		return nil, fmt.Errorf("sip: no %s listener to call %s from", b.Transport, b.User)
	}
	conn, err := s.cfg.Ports.Listen(ep.bind)
	if err != nil {
		return nil, fmt.Errorf("sip: no RTP port: %w", err)
	}
	rtpPort := int(conn.LocalAddr().(*net.UDPAddr).AddrPort().Port())
	fail := func(err error) (*Call, error) {
		_ = conn.Close()
		s.cfg.Ports.Release(rtpPort)
		return nil, err
	}
	local := sdp.Local{Addr: ep.advertise, Port: rtpPort, SessionID: newSessionID(), Version: 1, Username: "sipagent"}
	offer := sdp.Offer(s.cfg.Codecs, local, sdp.SendRecv)

	contact := s.contact(ep)
	req := s.newRequest(sip.INVITE, b.Contact, ep)
	req.SetDestination(b.Source.String())
	from := &sip.FromHeader{DisplayName: "sipagent", Address: sip.Uri{Scheme: "sip", User: "sipagent", Host: contact.Address.Host}, Params: sip.NewParams()}
	from.Params.Add("tag", newTag())
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: b.User, Host: contact.Address.Host}, Params: sip.NewParams()})
	cid := sip.CallIDHeader(newTag() + newTag())
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.INVITE})
	maxFwd := sip.MaxForwardsHeader(70)
	req.AppendHeader(&maxFwd)
	req.AppendHeader(&contact)
	req.AppendHeader(s.allowHeader())
	req.AppendHeader(sip.NewHeader("User-Agent", s.cfg.UserAgent))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(offer)

	log := s.log.With("call_id", string(cid))
	// Requests in the dialog go where the answer came from, as the
	// INVITE did (RFC 3581 s.4 symmetric signalling).
	dua := &sipgo.DialogUA{Client: s.client, ContactHDR: contact, RewriteContact: true}
	dlg, err := dua.WriteInvite(ctx, req, prebuilt)
	if err != nil {
		return fail(fmt.Errorf("sip: sending INVITE: %w", err))
	}
	if err := dlg.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		_ = dlg.Close()
		var dr *sipgo.ErrDialogResponse
		if errors.As(err, &dr) {
			log.Info("call not answered", "to", b.User, "status", dr.Res.StatusCode, "reason", dr.Res.Reason)
			return fail(&DialError{Code: dr.Res.StatusCode, Reason: dr.Res.Reason, Err: err})
		}
		log.Info("call not answered", "to", b.User, "error", err)
		return fail(&DialError{Err: err})
	}
	res := dlg.InviteResponse
	neg, perr := sdp.ParseAnswer(res.Body(), s.cfg.Codecs)
	ack := s.newRequest(sip.ACK, remoteTarget(req, res), ep)
	if err := dlg.WriteAck(ctx, ack); err != nil {
		_ = dlg.Close()
		return fail(fmt.Errorf("sip: sending ACK: %w", err))
	}
	info := agent.Info{
		CallID:     string(cid),
		From:       from.Address.String(),
		To:         req.To().Address.String(),
		RequestURI: req.Recipient.String(),
		Source:     b.Source,
		Transport:  ep.transport,
		Caller:     agent.Caller{Kind: agent.CallerUser, Name: b.User},
		Codec:      neg.Codec.Name,
	}
	if perr != nil {
		// The 2xx is ACKed (RFC 3261 s.13.2.2.4 requires it); a call
		// with no usable media is then ended at once.
		log.Warn("answer has no usable SDP; ending call", "error", perr)
		_ = s.byeNow(dlg, ep)
		return fail(fmt.Errorf("sip: answer refused: %w", perr))
	}
	sess, err := media.NewSession(s.mediaConfig(conn, neg, log))
	if err != nil {
		_ = s.byeNow(dlg, ep)
		return fail(err)
	}
	toTag, _ := res.To().Params.Get("tag")
	c := &Call{
		srv:         s,
		log:         log,
		dlg:         dlg,
		id:          sip.DialogIDMake(string(cid), from.Params.GetOr("tag", ""), toTag),
		cliDlg:      dlg,
		ep:          ep,
		info:        info,
		agent:       ag,
		sess:        sess,
		rtpPort:     rtpPort,
		local:       local,
		localSDP:    offer,
		neg:         neg,
		pendingCSeq: 1,
		hangupCh:    make(chan string, 1),
		done:        make(chan struct{}),
		start:       time.Now(),
	}
	s.calls.add(c.id, c)
	sess.Start()
	log.Info("call placed and answered", "to", b.User, "contact", b.Contact.String(), "via", b.Source.String(),
		"transport", ep.transport, "codec", neg.Codec.Name)
	return c, nil
}

// byeNow ends an answered outbound dialog that cannot become a call.
func (s *Server) byeNow(dlg *sipgo.DialogClientSession, ep endpoint) error {
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	return dlg.WriteBye(ctx, s.newRequest(sip.BYE, remoteTarget(dlg.InviteRequest, dlg.InviteResponse), ep))
}

// outboundEndpoint is our side of a call to binding b: the listener of
// its transport, advertising the address that routes to it.
func (s *Server) outboundEndpoint(b Binding) endpoint {
	l := s.Addr(b.Transport)
	ep := endpoint{transport: b.Transport, bind: l.Addr(), port: int(l.Port())}
	ep.advertise = ep.bind
	if !ep.bind.IsValid() || ep.bind.IsUnspecified() {
		ep.advertise = routeTo(b.Source.Addr())
	}
	if !ep.bind.IsValid() {
		ep.bind = netip.IPv4Unspecified()
	}
	if s.externalIP.IsValid() {
		ep.advertise = s.externalIP
	}
	return ep
}
