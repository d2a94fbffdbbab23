package sip

import (
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/sip/digest"
)

// Peer is a trunk or PBX let in by its signalling source address, such as
// a provider's published signalling ranges.
type Peer struct {
	Name string
	Nets []netip.Prefix
}

// User is a softphone or PBX that authenticates with digest credentials.
// Users may also REGISTER to sipagent's registrar.
type User struct {
	Username string
	Secret   digest.Secret
}

// AuthConfig tunes how callers who are neither peers nor account
// registrars are challenged and refused. Zero values get the defaults
// noted.
type AuthConfig struct {
	// Realm is the digest realm (default "sipagent"). HA1 secrets must
	// have been computed with it.
	Realm string
	// DropUnknown sends nothing to refused requests instead of 403: a
	// refused caller learns nothing from the answer, and a flood of them
	// costs no responses. (sipagent still answers OPTIONS and challenges
	// would-be users, so it remains discoverable.)
	DropUnknown bool
	// MaxFailures failed authentications from one source address within
	// FailureWindow block it for BlockFor (defaults 5, 1m, 10m).
	MaxFailures   int
	FailureWindow time.Duration
	BlockFor      time.Duration
	// NonceLifetime bounds how long a challenge may be answered (default
	// digest.DefaultNonceLifetime); older answers get stale=true.
	NonceLifetime time.Duration
	// Algorithms are offered in this order, one challenge each (default
	// MD5 alone). RFC 8760 clients pick the first they support, but
	// older stacks fail on any challenge they do not know: baresip 1.x
	// and other libre-based phones give up on a SHA-256 challenge even
	// when an MD5 one is offered beside it.
	Algorithms []digest.Algorithm
}

func (c *AuthConfig) applyDefaults() {
	if c.Realm == "" {
		c.Realm = "sipagent"
	}
	if c.MaxFailures == 0 {
		c.MaxFailures = 5
	}
	if c.FailureWindow == 0 {
		c.FailureWindow = time.Minute
	}
	if c.BlockFor == 0 {
		c.BlockFor = 10 * time.Minute
	}
	if c.NonceLifetime == 0 {
		c.NonceLifetime = digest.DefaultNonceLifetime
	}
	if len(c.Algorithms) == 0 {
		c.Algorithms = []digest.Algorithm{digest.MD5}
	}
}

// userFailuresFactor: a user name is blocked after this many times the
// per-address failure limit, from any mix of addresses. Higher than per
// address, because a block locks the real user out too.
const userFailuresFactor = 4

// policy decides who may call in and who may register. It is built once
// by NewServer and read-only afterwards, apart from its limiter.
type policy struct {
	cfg     AuthConfig
	peers   []Peer
	users   map[string]digest.Secret
	digest  *digest.Server // nil when no users are configured
	limiter *failLimiter[netip.Addr]
	// byUser limits guesses at one user name from many addresses: a
	// guesser with a block of IPv6 /64s, or a botnet.
	byUser *failLimiter[string]
}

func newPolicy(cfg AuthConfig, peers []Peer, users []User) (*policy, error) {
	cfg.applyDefaults()
	p := &policy{
		cfg:     cfg,
		peers:   peers,
		users:   make(map[string]digest.Secret, len(users)),
		limiter: newFailLimiter(cfg.MaxFailures, cfg.FailureWindow, cfg.BlockFor, time.Now),
		byUser:  newKeyLimiter[string](userFailuresFactor*cfg.MaxFailures, cfg.FailureWindow, cfg.BlockFor, time.Now),
	}
	for _, u := range users {
		if u.Username == "" {
			return nil, fmt.Errorf("sip: a user has no username")
		}
		if _, dup := p.users[u.Username]; dup {
			return nil, fmt.Errorf("sip: user %q listed twice", u.Username)
		}
		p.users[u.Username] = u.Secret
	}
	if len(users) > 0 {
		d, err := digest.NewServer(cfg.Realm, digest.WithNonceLifetime(cfg.NonceLifetime), digest.WithAlgorithms(cfg.Algorithms...))
		if err != nil {
			return nil, fmt.Errorf("sip: auth: %w", err)
		}
		p.digest = d
	}
	return p, nil
}

func (p *policy) lookup(username string) (digest.Secret, bool) {
	s, ok := p.users[username]
	return s, ok
}

// peer returns the name of the peer whose networks hold src, or "".
func (p *policy) peer(src netip.Addr) string {
	for _, peer := range p.peers {
		for _, n := range peer.Nets {
			if n.Contains(src) {
				return peer.Name
			}
		}
	}
	return ""
}

// admitCaller classifies a new INVITE before anything is set up for it
// (issue: trunks by address, softphones by digest, nobody else). When
// it returns false it has already answered (or, in drop mode, ignored)
// the request.
func (s *Server) admitCaller(req *sip.Request, tx sip.ServerTransaction, log *slog.Logger) (agent.Caller, bool) {
	src := sourceAddr(req)
	if name := s.policy.peer(src); name != "" {
		return agent.Caller{Kind: agent.CallerPeer, Name: name}, true
	}
	// The registrar is trusted only with calls for its own account: other
	// customers of a shared registrar (a Twilio SIP Domain's platform)
	// must not reach the other agents through it.
	if name := s.accounts.registrarSource(src); name != "" {
		if r := s.accounts.match(req.Recipient, req.To()); r != nil && r.acct.Name == name {
			return agent.Caller{Kind: agent.CallerAccount, Name: name}, true
		}
	}
	user, ok := s.authenticate(req, tx, log)
	if !ok {
		return agent.Caller{}, false
	}
	return agent.Caller{Kind: agent.CallerUser, Name: user}, true
}

// authenticate checks a request's digest credentials (RFC 3261 s.22.2:
// a UAS challenges with 401 and WWW-Authenticate). Every INVITE from a
// user is challenged, registered or not: registration is not
// authorization. When it returns false it has answered the request.
//
// Unknown users and wrong passwords get the same 403, built from the
// request alone, after the same hashing work (digest.Server.Check), so
// neither the bytes nor the timing say which user names exist.
func (s *Server) authenticate(req *sip.Request, tx sip.ServerTransaction, log *slog.Logger) (string, bool) {
	p := s.policy
	src := sourceAddr(req)
	if p.digest == nil {
		log.Debug("refused: not a listed peer and no users are configured", "method", req.Method, "source", req.Source())
		if n, ok := s.refusedLog.tick(time.Now()); ok {
			s.log.Info("refusing requests from sources that are not listed peers (no users are configured)",
				"refused", n, "last_source", req.Source())
		}
		s.refuse(req, tx)
		return "", false
	}
	if p.limiter.blocked(src) {
		log.Debug("refused: source is blocked after authentication failures", "method", req.Method, "source", req.Source())
		s.refuse(req, tx)
		return "", false
	}
	h := req.GetHeader("Authorization")
	if h == nil {
		s.challenge(req, tx, false)
		return "", false
	}
	claimed := digest.Username(h.Value())
	if claimed != "" && p.byUser.blocked(claimed) {
		log.Debug("refused: user name is blocked after authentication failures", "method", req.Method, "source", req.Source())
		s.refuse(req, tx)
		return "", false
	}
	res := p.digest.Check(string(req.Method), h.Value(), p.lookup)
	switch res.Outcome {
	case digest.OK:
		return res.Username, true
	case digest.Stale:
		log.Debug("stale nonce; challenging again", "user", res.Username, "reason", res.Reason())
		s.challenge(req, tx, true)
		return "", false
	}
	// The reason names unknown users; it goes to the operator's log only.
	// The limiter bounds these lines per source; spoofed sources cannot
	// get past its table, which is bounded too.
	log.Info("authentication failed", "method", req.Method, "source", req.Source(), "reason", res.Reason())
	// A retransmission carries the same request and credentials; a new
	// guess changes the response, so it counts even on the same CSeq.
	attempt := requestKey(req) + "\x00" + h.Value()
	if p.limiter.fail(src, attempt) {
		log.Warn("blocking source after repeated authentication failures",
			"source", src.String(), "failures", p.cfg.MaxFailures, "within", p.cfg.FailureWindow, "for", p.cfg.BlockFor)
	}
	if claimed != "" && p.byUser.fail(claimed, attempt) {
		log.Warn("blocking user name after repeated authentication failures from several addresses",
			"user", claimed, "failures", userFailuresFactor*p.cfg.MaxFailures, "within", p.cfg.FailureWindow, "for", p.cfg.BlockFor)
	}
	s.refuse(req, tx)
	return "", false
}

// challenge answers 401 with a fresh nonce per offered algorithm.
func (s *Server) challenge(req *sip.Request, tx sip.ServerTransaction, stale bool) {
	vals := s.policy.digest.Challenge(stale)
	hdrs := make([]sip.Header, len(vals))
	for i, v := range vals {
		hdrs[i] = sip.NewHeader("WWW-Authenticate", v)
	}
	respond(s.log, tx, newResponse(req, 401, "Unauthorized", nil, hdrs...))
}

// refuse answers 403, or nothing in drop mode. sipgo ends a server
// transaction that gets no response when the handler returns.
func (s *Server) refuse(req *sip.Request, tx sip.ServerTransaction) {
	if s.policy.cfg.DropUnknown {
		return
	}
	respond(s.log, tx, newResponse(req, 403, "Forbidden", nil))
}

// onRegister serves sipagent's registrar for configured users.
func (s *Server) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	if se := validateRequest(req); se != nil {
		respondErr(s.log, req, tx, se)
		return
	}
	log := s.log.With("call_id", callID(req))
	user, ok := s.authenticate(req, tx, log)
	if !ok {
		return
	}
	res := s.registrar.register(req, user)
	if res.StatusCode == 200 {
		log.Debug("registrar: REGISTER accepted", "user", user, "source", req.Source())
	} else {
		log.Info("registrar: REGISTER refused", "user", user, "status", res.StatusCode, "reason", res.Reason)
	}
	respond(s.log, tx, res)
}

// requestKey identifies a request across its retransmissions.
func requestKey(req *sip.Request) string {
	var seq uint32
	if cs := req.CSeq(); cs != nil {
		seq = cs.SeqNo
	}
	return fmt.Sprintf("%s %d %s", callID(req), seq, req.Method)
}

func sourceAddr(req *sip.Request) netip.Addr {
	ap, _ := netip.ParseAddrPort(req.Source())
	return ap.Addr().Unmap()
}
