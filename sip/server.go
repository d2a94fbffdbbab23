package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/media"
)

// Listener is one socket to serve SIP on.
type Listener struct {
	Transport string // "udp", "tcp" or "tls" (needs Config.TLS with a certificate)
	Addr      string // host:port; port 0 asks the OS for one
}

// Config is what a Server needs. Zero values get the defaults noted.
type Config struct {
	Listeners []Listener
	// ExternalHost, when set, is advertised in Contact and SDP instead of
	// the local address a call arrived on (sipagent behind NAT).
	ExternalHost string
	UserAgent    string // default "sipagent"
	// TLS serves tls listeners (its certificate) and secures the TLS
	// connections sipagent opens: to registrars and transfer targets,
	// verified against RootCAs (nil: the system's roots) and the name
	// dialled, and offering the certificate when a peer asks for one.
	// Nil: tls listeners are refused; outgoing TLS uses the system's
	// roots.
	TLS *tls.Config
	// RingTime, when set, sends 180 Ringing and answers after this long.
	RingTime    time.Duration
	Codecs      []media.Codec // answer preference; default PCMU, PCMA
	Ports       *media.PortPool
	RTPTimeout  time.Duration // 0 disables the no-RTP check
	JitterDepth int           // packets; default 3
	MaxCalls    int           // default 1000
	Router      Router
	Logger      *slog.Logger

	// Peers are trunks and PBXs let in by source address; Users
	// authenticate with digest and may register to the built-in
	// registrar. Anyone else is refused (AuthConfig says how).
	Peers     []Peer
	Users     []User
	Auth      AuthConfig
	Registrar RegistrarConfig
	// Accounts are registrations of sipagent at other registrars; the
	// calls they route here go to each account's agent.
	Accounts      []Account
	RegisterRetry RetryTiming
	// Transferrer carries out agents' transfer requests (package
	// transfer); nil refuses them with agent.ErrTransferUnsupported.
	Transferrer Transferrer
}

// Transferrer forwards a call as an agent asked: by REFER (Call.Refer)
// or by bridging a new call.
type Transferrer interface {
	Transfer(ctx context.Context, c *Call, req agent.TransferRequest) (agent.TransferResult, error)
	// ReferTarget checks a Refer-To value the far end sent (a REFER
	// moving the call) and says how to call it, or why not.
	ReferTarget(referTo string) (DialRequest, error)
}

// Server answers SIP calls and runs them with agents.
type Server struct {
	cfg    Config
	log    *slog.Logger
	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client

	// externalIP is ExternalHost resolved, for SDP c= lines.
	externalIP netip.Addr

	calls      *registry
	policy     *policy
	registrar  *registrar // nil without users
	accounts   accountSet
	allow      string         // the Allow header value (RFC 3261 s.20.5)
	limitLog   logEvery       // "call limit reached", at most every limitLogEvery
	refusedLog logEvery       // refusals of strangers, likewise
	sipgoLog   *sipgoLogState // counts what sipgo dropped; silenced by Close
	callWG     sync.WaitGroup // one per call goroutine and per INVITE in setup
	serveWG    sync.WaitGroup // one per listener
	stats      serverStats    // counted as calls end, for Stats

	mu        sync.Mutex
	listeners []boundListener
	udpConns  []*recordingConn // to answer what sipgo cannot parse
	draining  bool             // no new calls; guarded by mu so admit and Shutdown agree

	// drainCtx is cancelled when draining starts: calls still ringing
	// out (Dial) are cancelled then, as Shutdown cannot hang them up.
	drainCtx   context.Context
	startDrain context.CancelFunc

	closeOnce sync.Once
}

type boundListener struct {
	transport string
	addr      netip.AddrPort
	closer    interface{ Close() error }
}

// NewServer checks cfg and builds a Server. Call Start to serve.
func NewServer(cfg Config) (*Server, error) {
	if len(cfg.Listeners) == 0 {
		return nil, errors.New("sip: no listeners")
	}
	if cfg.Router == nil {
		return nil, errors.New("sip: no router")
	}
	if cfg.Ports == nil {
		return nil, errors.New("sip: no RTP port pool")
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "sipagent"
	}
	if len(cfg.Codecs) == 0 {
		cfg.Codecs = []media.Codec{media.PCMU, media.PCMA}
	}
	if cfg.JitterDepth == 0 {
		cfg.JitterDepth = 3
	}
	if cfg.MaxCalls == 0 {
		cfg.MaxCalls = 1000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	pol, err := newPolicy(cfg.Auth, cfg.Peers, cfg.Users)
	if err != nil {
		return nil, err
	}
	var extIP netip.Addr
	if h := cfg.ExternalHost; h != "" {
		ip, err := resolveHost(h)
		if err != nil {
			return nil, fmt.Errorf("sip: external host: %w", err)
		}
		extIP = ip
	}
	// sipgo logs every unparseable message at Error level with its
	// content, and its transport and transaction layers log to
	// slog.Default unless told otherwise. All its layers get a logger
	// that demotes and counts what a remote peer can trigger at will.
	logState := newSipgoLogState()
	sipgoLog := slog.New(newSipgoHandler(cfg.Logger.Handler(), logState)).With("component", "sipgo")
	uaOpts := []sipgo.UserAgentOption{
		sipgo.WithUserAgent(cfg.UserAgent),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sipgoLog)),
		sipgo.WithUserAgentTransactionLayerOptions(
			sip.WithTransactionLayerLogger(sipgoLog),
			// A response that matches no transaction is usually a
			// retransmission; sipgo's default logs each at Info.
			sip.WithTransactionLayerUnhandledResponseHandler(func(r *sip.Response) {
				sipgoLog.Debug("response matches no transaction", "response", r.Short(), "source", r.Source())
			}),
		),
	}
	if cfg.TLS != nil {
		uaOpts = append(uaOpts, sipgo.WithUserAgenTLSConfig(clientTLS(cfg.TLS)))
	}
	ua, err := sipgo.NewUA(uaOpts...)
	if err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(sipgoLog))
	if err != nil {
		_ = ua.Close()
		return nil, fmt.Errorf("sip: %w", err)
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientLogger(sipgoLog))
	if err != nil {
		_ = ua.Close()
		return nil, fmt.Errorf("sip: %w", err)
	}
	drainCtx, startDrain := context.WithCancel(context.Background())
	s := &Server{
		drainCtx:   drainCtx,
		startDrain: startDrain,
		cfg:        cfg,
		log:        cfg.Logger,
		ua:         ua,
		srv:        srv,
		client:     client,
		calls:      newRegistry(),
		policy:     pol,
		allow:      allowedMethods,

		limitLog:   logEvery{every: limitLogEvery},
		refusedLog: logEvery{every: limitLogEvery},

		externalIP: extIP,
		sipgoLog:   logState,
	}
	if err := s.addAccounts(cfg.Accounts, cfg.RegisterRetry); err != nil {
		_ = ua.Close()
		return nil, err
	}
	logState.onUnparsed = s.answerUnparsed
	if len(cfg.Users) > 0 {
		s.registrar = newRegistrar(cfg.Registrar, time.Now)
		s.allow += ", REGISTER"
		srv.OnRegister(s.onRegister)
	}
	srv.OnInvite(s.onInvite)
	srv.OnAck(s.onAck)
	srv.OnBye(s.onBye)
	srv.OnCancel(s.onCancel)
	srv.OnOptions(s.onOptions)
	srv.OnNotify(s.onNotify)
	srv.OnRefer(s.onRefer)
	srv.OnNoRoute(s.onNoRoute)
	return s, nil
}

// Start binds every listener and serves them in the background. It fails
// if any listener cannot be bound.
func (s *Server) Start() error {
	for _, l := range s.cfg.Listeners {
		if err := s.listen(l); err != nil {
			_ = s.Close() // nothing to report beyond the listen error
			return err
		}
	}
	for _, r := range s.accounts.regs {
		if !s.Addr(r.acct.Transport).IsValid() {
			_ = s.Close()
			return fmt.Errorf("sip: account %s registers over %s, but there is no %s listener", r.acct.Name, r.acct.Transport, r.acct.Transport)
		}
	}
	s.accounts.start()
	return nil
}

func (s *Server) listen(l Listener) error {
	switch l.Transport {
	case "udp":
		pc, err := net.ListenPacket("udp", l.Addr)
		if err != nil {
			return fmt.Errorf("sip: listen udp %s: %w", l.Addr, err)
		}
		rc := &recordingConn{PacketConn: pc}
		s.addListener("udp", pc.LocalAddr(), pc)
		s.mu.Lock()
		s.udpConns = append(s.udpConns, rc)
		s.mu.Unlock()
		s.serveWG.Go(func() { _ = s.srv.ServeUDP(rc) })
		s.waitPooled(pc.LocalAddr().String())
	case "tcp":
		ln, err := net.Listen("tcp", l.Addr)
		if err != nil {
			return fmt.Errorf("sip: listen tcp %s: %w", l.Addr, err)
		}
		s.addListener("tcp", ln.Addr(), ln)
		s.serveWG.Go(func() { _ = s.srv.ServeTCP(ln) })
	case "tls":
		if !hasCertificate(s.cfg.TLS) {
			return fmt.Errorf("sip: listen tls %s: no certificate (Config.TLS)", l.Addr)
		}
		ln, err := net.Listen("tcp", l.Addr)
		if err != nil {
			return fmt.Errorf("sip: listen tls %s: %w", l.Addr, err)
		}
		s.addListener("tls", ln.Addr(), ln)
		tln := tlsListener{Listener: ln, conf: serverTLS(s.cfg.TLS)}
		s.serveWG.Go(func() { _ = s.srv.ServeTLS(tln) })
	default:
		return fmt.Errorf("sip: transport %q is not supported", l.Transport)
	}
	s.log.Info("listening", "transport", l.Transport, "addr", s.Addr(l.Transport).String())
	return nil
}

// waitPooled waits until sipgo has taken a UDP listener into its
// connection pool, which ServeUDP does in its own goroutine: a request
// sent from the listener's address before that (a REGISTER at start-up)
// would make sipgo try to bind the address a second time.
func (s *Server) waitPooled(addr string) {
	tp := s.ua.TransportLayer()
	for range 200 {
		if _, err := tp.GetConnection("udp", addr); err == nil {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.log.Warn("UDP listener not ready after 1s", "addr", addr)
}

func (s *Server) addListener(transport string, a net.Addr, c interface{ Close() error }) {
	ap, _ := netip.ParseAddrPort(a.String())
	s.mu.Lock()
	s.listeners = append(s.listeners, boundListener{transport: transport, addr: ap, closer: c})
	s.mu.Unlock()
}

// Addr returns the bound address of the first listener of transport, or
// the zero value.
func (s *Server) Addr(transport string) netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.listeners {
		if l.transport == transport {
			return l.addr
		}
	}
	return netip.AddrPort{}
}

var errCallLimit = errors.New("sip: call limit reached")

// admit takes a call slot for a new INVITE, or says why not. Admission
// and draining share s.mu so that no call is admitted once Shutdown has
// begun to wait for the calls it knows of.
func (s *Server) admit() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining {
		return statusErr(503, "Service Unavailable", ErrDraining, sip.NewHeader("Retry-After", "30"))
	}
	if !s.calls.reserve(s.cfg.MaxCalls) {
		return statusErr(503, "Service Unavailable", errCallLimit, sip.NewHeader("Retry-After", "5"))
	}
	s.callWG.Add(1)
	return nil
}

func (s *Server) setDraining() {
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
	s.startDrain()
}

func (s *Server) isDraining() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.draining
}

// ActiveCalls returns the number of calls in setup or in progress.
func (s *Server) ActiveCalls() int { return s.calls.count() }

// RTPPortsInUse returns the number of RTP ports calls hold.
func (s *Server) RTPPortsInUse() int { return s.cfg.Ports.InUse() }

// DroppedMessages returns how many received messages were dropped or
// refused because they could not be parsed or matched to a transaction.
func (s *Server) DroppedMessages() uint64 { return s.sipgoLog.dropped.Load() }

// Shutdown stops taking new calls (they get 503), lets active calls run
// until ctx is done, then ends the rest with BYE and closes the server.
func (s *Server) Shutdown(ctx context.Context) error {
	s.setDraining()
	// Unregister first, so that registrars stop sending calls here
	// while the active ones drain.
	s.accounts.stop()
	s.log.Info("draining", "active_calls", s.calls.count())
	done := make(chan struct{})
	go func() { s.callWG.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		n := s.calls.hangupAll("shutdown")
		s.log.Info("drain time over, ending calls", "calls", n)
		<-done
	}
	return s.Close()
}

// Close ends all calls at once and closes every socket. It is idempotent.
// sipgo may still be finishing requests in goroutines of its own; they
// log nothing once Close returns.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.setDraining()
		s.accounts.stop() // unregisters while the sockets are open
		s.calls.hangupAll("shutdown")
		s.callWG.Wait()
		s.mu.Lock()
		for _, l := range s.listeners {
			_ = l.closer.Close()
		}
		s.mu.Unlock()
		_ = s.srv.Close()
		_ = s.ua.Close()
		s.serveWG.Wait()
		s.closeLateSockets()
		s.sipgoLog.close()
	})
	return nil
}

// closeLateSockets closes UDP sockets sipgo opened after the connection
// pool was emptied. sipgo (v1.7.3) handles each request in a goroutine of
// its own; one started just before the listeners closed can find no
// connection to answer from and open a fresh socket, with a reader
// goroutine nothing would ever stop (TransportLayer.serverRequestConnection).
// The listeners' readers have returned by now, so no such goroutine is
// started any more, and the ones already started reach that point within
// microseconds: emptying the pool again over a short grace period closes
// whatever they opened. Shutdown is the only cost, and it is small.
func (s *Server) closeLateSockets() {
	for _, wait := range [...]time.Duration{time.Millisecond, 10 * time.Millisecond, 40 * time.Millisecond} {
		time.Sleep(wait)
		_ = s.ua.TransportLayer().Close()
	}
}

// onOptions answers OPTIONS with what sipagent can do (RFC 3261 s.11.2).
// While draining it answers 503 so that load balancers pinging with
// OPTIONS stop sending calls.
func (s *Server) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	if s.isDraining() {
		respond(s.log, tx, newResponse(req, 503, "Service Unavailable", nil, sip.NewHeader("Retry-After", "30")))
		return
	}
	respond(s.log, tx, newResponse(req, 200, "OK", nil,
		s.allowHeader(),
		sip.NewHeader("Accept", "application/sdp"),
		sip.NewHeader("Supported", ""),
	))
}

// onNoRoute answers methods sipagent does not serve: 405 for methods it
// knows of, 501 for the rest, both with Allow (RFC 3261 s.8.2.1).
func (s *Server) onNoRoute(req *sip.Request, tx sip.ServerTransaction) {
	if knownMethods[req.Method] {
		respond(s.log, tx, newResponse(req, 405, "Method Not Allowed", nil, s.allowHeader()))
		return
	}
	respond(s.log, tx, newResponse(req, 501, "Not Implemented", nil, s.allowHeader()))
}

// onCancel sees only CANCELs that matched no INVITE transaction (sipgo
// answers matched ones itself with 200 and the INVITE with 487).
func (s *Server) onCancel(req *sip.Request, tx sip.ServerTransaction) {
	respondNoDialog(s.log, req, tx)
}

// onBye ends a call at the caller's request.
func (s *Server) onBye(req *sip.Request, tx sip.ServerTransaction) {
	if c := s.inDialog(req, tx); c != nil {
		c.remoteBye(req, tx)
	}
}

// inDialog returns the call an in-dialog request belongs to, or answers
// 481 and returns nil (RFC 3261 s.12.2.2).
func (s *Server) inDialog(req *sip.Request, tx sip.ServerTransaction) *Call {
	c := s.calls.match(req)
	if c == nil {
		respondNoDialog(s.log, req, tx)
	}
	return c
}

// onAck confirms a dialog; for an INVITE that came without SDP it carries
// the answer to our offer (RFC 3264 s.5).
func (s *Server) onAck(req *sip.Request, tx sip.ServerTransaction) {
	c := s.calls.match(req)
	if c == nil {
		return // an ACK gets no response; a stray one is dropped
	}
	c.ack(req, tx)
}

func resolveHost(h string) (netip.Addr, error) {
	return resolveHostContext(context.Background(), h)
}

// resolveHostContext returns h's first IPv4 address, or its first IPv6
// one if it has none (A and AAAA; SRV is not used), giving up when ctx
// ends. IPv4 first is sipgo's choice when it resolves a name itself (TLS
// requests go to a name): both must pick the same address, or Via,
// Contact and SDP would name another path than the one in use.
func resolveHostContext(ctx context.Context, h string) (netip.Addr, error) {
	if ip, err := netip.ParseAddr(h); err == nil {
		return ip.Unmap(), nil
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", h)
	if err != nil {
		return netip.Addr{}, err
	}
	if len(ips) == 0 {
		return netip.Addr{}, fmt.Errorf("%s has no address", h)
	}
	for _, ip := range ips {
		if ip.Unmap().Is4() {
			return ip.Unmap(), nil
		}
	}
	return ips[0], nil
}
