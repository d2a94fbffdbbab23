package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	return s.DialURI(ctx, DialRequest{User: user, Direction: "outbound-api"}, ag)
}

// Registered reports whether user has a contact registered with
// sipagent's registrar, so that Dial would find her.
func (s *Server) Registered(user string) bool {
	_, err := s.registeredTarget(user)
	return err == nil
}

// registeredTarget is the call to a user registered to sipagent, at the
// contact she registered most recently.
func (s *Server) registeredTarget(user string) (outbound, error) {
	if s.registrar == nil {
		return outbound{}, ErrNotRegistered
	}
	bs := s.registrar.lookup(user)
	if len(bs) == 0 || !bs[0].Source.IsValid() {
		return outbound{}, ErrNotRegistered
	}
	b := bs[0]
	return outbound{
		target:    b.Contact,
		dest:      b.Source,
		transport: b.Transport,
		toUser:    b.User,
		caller:    agent.Caller{Kind: agent.CallerUser, Name: b.User},
	}, nil
}

// outbound is a call sipagent places.
type outbound struct {
	target      sip.Uri        // Request-URI
	dest        netip.AddrPort // where the INVITE goes
	destHost    string         // the name dest was resolved from, for TLS; "" when dest is a flow to reuse
	transport   string
	toUser      string // To: sip:toUser@host (the target's host, or ours for a registered user)
	toHost      string // "" means our own address
	fromUser    string
	headers     []sip.Header
	username    string // digest credentials for the target's challenge
	password    string
	caller      agent.Caller
	ringTimeout time.Duration // 0: the context decides, else DefaultRingTimeout
	progress    func(Progress)
	direction   string // agent.Info.Direction; "" means outbound-dial
	callID      string // "" makes a new one
}

// DialRequest is a call to any SIP URI, as a bridge transfer places it.
type DialRequest struct {
	URI       sip.Uri // the target; its host is resolved with A/AAAA records
	Transport string  // udp, tcp or tls; default udp
	// User, when set, is a user registered to sipagent's registrar, called
	// as Dial calls her (URI and Transport are then not used); a user
	// with no contact is ErrNotRegistered.
	User string
	// Headers go into the INVITE (a TwiML <Sip> URI's ?X-... headers).
	Headers []agent.Header
	// Username and Password answer the target's 401 or 407.
	Username, Password string
	// CallerID is the From user; default "sipagent".
	CallerID string
	// Timeout is how long the target may ring; default DefaultRingTimeout.
	Timeout time.Duration
	// CallID is the Call-ID to place the call with; "" makes a new
	// one. The live-call API sets it to tell the call's SID at once.
	CallID string
	// Direction is the call's agent.Info.Direction; default
	// outbound-dial (a bridged call's target), outbound-api for a call
	// the live-call API places.
	Direction string
	// Progress, if set, is called with each provisional response (180,
	// 183, ...) the target sends while it rings, in the dialling
	// goroutine; it must not block.
	Progress func(Progress)
}

// Progress is a provisional response from a target being called.
type Progress struct {
	Code   int
	Reason string
	// Media is the target's early media (RFC 3960 s.3: the SDP of an
	// 18x is the answer, and the target may send RTP at once), set from
	// the first 18x that carried usable SDP on. It becomes the call's
	// media if the target answers, and is closed if it does not.
	Media *media.Session
}

// DialURI calls req.URI, or the registered req.User, and runs ag on the
// call once it is answered, like Dial. Failures that are the target's
// answer are *DialError.
func (s *Server) DialURI(ctx context.Context, req DialRequest, ag agent.Agent) (string, error) {
	if req.User != "" {
		o, err := s.registeredTarget(req.User)
		if err != nil {
			return "", err
		}
		o.applyRequest(req)
		return s.dial(ctx, o, ag)
	}
	transport := req.Transport
	if transport == "" {
		transport = "udp"
	}
	ip, err := resolveHostContext(ctx, req.URI.Host)
	if err != nil {
		return "", fmt.Errorf("sip: resolving %s: %w", req.URI.Host, err)
	}
	port := req.URI.Port
	if port == 0 {
		port = defaultPort(transport)
	}
	o := outbound{
		target:    req.URI,
		dest:      netip.AddrPortFrom(ip, uint16(port)),
		destHost:  req.URI.Host,
		transport: transport,
		toUser:    req.URI.User,
		toHost:    req.URI.Host,
	}
	o.applyRequest(req)
	return s.dial(ctx, o, ag)
}

// applyRequest copies what req says about the call itself, wherever it
// goes: credentials, ring time, progress, direction, Call-ID, headers.
func (o *outbound) applyRequest(req DialRequest) {
	o.fromUser = req.CallerID
	if o.fromUser == "" {
		o.fromUser = "sipagent"
	}
	o.username, o.password = req.Username, req.Password
	o.ringTimeout = req.Timeout
	o.progress = req.Progress
	o.direction = req.Direction
	o.callID = req.CallID
	for _, h := range req.Headers {
		o.headers = append(o.headers, sip.NewHeader(h.Name, h.Value))
	}
}

func (s *Server) dial(ctx context.Context, o outbound, ag agent.Agent) (string, error) {
	if err := s.admit(); err != nil {
		return "", err
	}
	c, err := s.placeCall(ctx, o, ag)
	if err != nil {
		s.calls.release()
		s.callWG.Done()
		return "", err
	}
	go c.run()
	return c.info.CallID, nil
}

func (s *Server) placeCall(ctx context.Context, o outbound, ag agent.Agent) (*Call, error) {
	if o.ringTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.ringTimeout)
		defer cancel()
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultRingTimeout)
		defer cancel()
	}
	// Shutdown cancels a call still ringing (with CANCEL).
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.drainCtx, cancel)()
	ep := s.outboundEndpoint(o.transport, o.dest.Addr())
	if ep.port == 0 {
		return nil, fmt.Errorf("sip: no %s listener to call %s from", o.transport, o.target.String())
	}
	conn, err := s.cfg.Ports.Listen(ep.bind)
	if err != nil {
		return nil, fmt.Errorf("sip: no RTP port: %w", err)
	}
	rtpPort := int(conn.LocalAddr().(*net.UDPAddr).AddrPort().Port())
	var early earlyMedia // owns conn once it has a session
	fail := func(err error) (*Call, error) {
		if early.sess != nil {
			_ = early.sess.Close()
		} else {
			_ = conn.Close()
		}
		s.cfg.Ports.Release(rtpPort)
		return nil, err
	}
	local := sdp.Local{Addr: ep.advertise, Port: rtpPort, SessionID: newSessionID(), Version: 1, Username: "sipagent"}
	offer := sdp.Offer(s.cfg.Codecs, local, sdp.SendRecv)

	contact := s.contact(ep)
	req := s.newRequest(sip.INVITE, o.target, ep)
	if err := s.checkTLSReuse(o.transport, o.destHost, o.dest); err != nil {
		return fail(err)
	}
	req.SetDestination(tlsDestination(o.transport, o.destHost, o.dest))
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: o.fromUser, Host: contact.Address.Host}, Params: sip.NewParams()}
	from.Params.Add("tag", newTag())
	req.AppendHeader(from)
	toHost := o.toHost
	if toHost == "" {
		toHost = contact.Address.Host
	}
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: o.toUser, Host: toHost}, Params: sip.NewParams()})
	cid := sip.CallIDHeader(o.callID)
	if cid == "" {
		cid = sip.CallIDHeader(newTag() + newTag())
	}
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.INVITE})
	maxFwd := sip.MaxForwardsHeader(70)
	req.AppendHeader(&maxFwd)
	req.AppendHeader(&contact)
	req.AppendHeader(s.allowHeader())
	req.AppendHeader(sip.NewHeader("User-Agent", s.cfg.UserAgent))
	for _, h := range o.headers {
		req.AppendHeader(h)
	}
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
	onResponse := func(res *sip.Response) error {
		if res.StatusCode <= 100 || !res.IsProvisional() {
			return nil
		}
		early.provisional(s, res, conn, log)
		if o.progress != nil {
			o.progress(Progress{Code: res.StatusCode, Reason: res.Reason, Media: early.sess})
		}
		return nil
	}
	if err := dlg.WaitAnswer(ctx, sipgo.AnswerOptions{OnResponse: onResponse, Username: o.username, Password: o.password}); err != nil {
		_ = dlg.Close()
		var dr *sipgo.ErrDialogResponse
		if errors.As(err, &dr) {
			log.Info("call not answered", "to", o.target.String(), "status", dr.Res.StatusCode, "reason", dr.Res.Reason)
			return fail(&DialError{Code: dr.Res.StatusCode, Reason: dr.Res.Reason, Err: err})
		}
		log.Info("call not answered", "to", o.target.String(), "error", err)
		return fail(&DialError{Err: err})
	}
	res := dlg.InviteResponse
	neg, perr := sdp.ParseAnswer(res.Body(), s.cfg.Codecs)
	if len(res.Body()) == 0 && early.sess != nil {
		// The 18x's SDP was the answer; the 2xx need not repeat it
		// (RFC 3261 s.13.2.1).
		neg, perr = early.neg, nil
	}
	ack := s.newRequest(sip.ACK, remoteTarget(req, res), ep)
	if err := dlg.WriteAck(ctx, ack); err != nil {
		_ = dlg.Close()
		return fail(fmt.Errorf("sip: sending ACK: %w", err))
	}
	direction := o.direction
	if direction == "" {
		direction = "outbound-dial"
	}
	src := sourceOf(res) // where the answer came from: over TLS, sipgo resolved the name itself
	if !src.IsValid() {
		src = o.dest
	}
	info := agent.Info{
		Direction:  direction,
		CallID:     string(cid),
		From:       from.Address.String(),
		To:         req.To().Address.String(),
		RequestURI: req.Recipient.String(),
		Source:     src,
		Transport:  ep.transport,
		Caller:     o.caller,
		Codec:      neg.Codec.Name,
	}
	if perr != nil {
		// The 2xx is ACKed (RFC 3261 s.13.2.2.4 requires it); a call
		// with no usable media is then ended at once.
		log.Warn("answer has no usable SDP; ending call", "error", perr)
		_ = s.byeNow(dlg, ep)
		return fail(fmt.Errorf("sip: answer refused: %w", perr))
	}
	sess := early.sess
	if sess != nil {
		err = sess.Update(mediaUpdate(neg))
	} else {
		sess, err = media.NewSession(s.mediaConfig(conn, neg, log))
	}
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
		redirect:    make(chan agent.Agent),
		done:        make(chan struct{}),
		start:       time.Now(),
	}
	c.answered.Store(true)
	s.calls.add(c.id, c)
	sess.Start()
	log.Info("call placed and answered", "to", o.target.String(), "via", o.dest.String(),
		"transport", ep.transport, "codec", neg.Codec.Name)
	return c, nil
}

// byeNow ends an answered outbound dialog that cannot become a call.
func (s *Server) byeNow(dlg *sipgo.DialogClientSession, ep endpoint) error {
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	return dlg.WriteBye(ctx, s.newRequest(sip.BYE, remoteTarget(dlg.InviteRequest, dlg.InviteResponse), ep))
}

// outboundEndpoint is our side of a call to dest: the listener of the
// transport, advertising the address that routes to dest.
func (s *Server) outboundEndpoint(transport string, dest netip.Addr) endpoint {
	l := s.Addr(transport)
	ep := endpoint{transport: transport, bind: l.Addr(), port: int(l.Port())}
	ep.advertise = ep.bind
	if !ep.bind.IsValid() || ep.bind.IsUnspecified() {
		ep.advertise = routeTo(dest)
	}
	if !ep.bind.IsValid() {
		ep.bind = netip.IPv4Unspecified()
	}
	if s.externalIP.IsValid() {
		ep.advertise = s.externalIP
	}
	return ep
}

// earlyMedia is the media of a call being placed whose target sent SDP
// in a provisional response.
type earlyMedia struct {
	sess *media.Session
	neg  sdp.Media
}

// provisional starts early media from the first 18x with usable SDP.
// Later ones (another fork, a repeat) change nothing: one early session
// is enough to hear ringback, and the 2xx settles the media in any case.
func (e *earlyMedia) provisional(s *Server, res *sip.Response, conn *net.UDPConn, log *slog.Logger) {
	if e.sess != nil || len(res.Body()) == 0 {
		return
	}
	neg, err := sdp.ParseAnswer(res.Body(), s.cfg.Codecs)
	if err != nil {
		log.Info("early media refused", "status", res.StatusCode, "error", err)
		return
	}
	sess, err := media.NewSession(s.mediaConfig(conn, neg, log))
	if err != nil {
		log.Info("early media refused", "status", res.StatusCode, "error", err)
		return
	}
	e.sess, e.neg = sess, neg
	sess.Start()
	log.Info("early media from the target", "status", res.StatusCode, "codec", neg.Codec.Name)
}
