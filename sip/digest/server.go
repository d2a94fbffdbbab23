package digest

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	icholy "github.com/icholy/digest"
)

// Defaults for [NewServer].
const (
	DefaultNonceLifetime = 5 * time.Minute
	DefaultMaxNonces     = 8192
)

// Server challenges callers and checks their credentials for one realm.
// It is safe for concurrent use.
//
// Nonces carry their issue time and an HMAC under the server's secret, so
// checking origin and age needs no storage; a bounded table of used nonces
// refuses replays (see [Server.Check]). A fresh random secret per Server
// means a restart invalidates outstanding nonces: clients with the right
// password are told stale=true and retry, nobody is locked out.
type Server struct {
	realm     string
	lifetime  time.Duration
	algs      []Algorithm
	now       func() time.Time
	secret    []byte
	maxNonces int

	signer *nonceSigner
	replay *replayTable
	dummy  string // password checked for unknown users, so they cost the same
}

// NewServer returns a Server for realm, which must be printable ASCII
// (it is sent in every challenge and echoed by every client).
func NewServer(realm string, opts ...Option) (*Server, error) {
	if !validRealm(realm) {
		return nil, fmt.Errorf("%w: %q", ErrRealm, realm)
	}
	s := &Server{
		realm:     realm,
		lifetime:  DefaultNonceLifetime,
		algs:      []Algorithm{SHA256, MD5},
		now:       time.Now,
		maxNonces: DefaultMaxNonces,
	}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	if s.secret == nil {
		s.secret = make([]byte, 32)
		_, _ = rand.Read(s.secret) // never fails since Go 1.24
	}
	var dummy [16]byte
	_, _ = rand.Read(dummy[:])
	s.dummy = hex.EncodeToString(dummy[:])
	s.signer = newNonceSigner(s.secret)
	s.replay = newReplayTable(s.maxNonces, s.lifetime.Nanoseconds())
	return s, nil
}

func validRealm(realm string) bool {
	if realm == "" {
		return false
	}
	for i := 0; i < len(realm); i++ {
		if realm[i] < 0x20 || realm[i] > 0x7e {
			return false
		}
	}
	return true
}

// Realm returns the realm the server challenges for.
func (s *Server) Realm() string { return s.realm }

// Challenge returns the WWW-Authenticate (for a 401) or Proxy-Authenticate
// (for a 407) header values: one per offered algorithm, most preferred
// first, sharing one fresh nonce, each with qop="auth". Set stale after a
// [Stale] result so the client retries without asking its user.
func (s *Server) Challenge(stale bool) []string {
	nonce := s.signer.issue(s.now().UnixNano())
	out := make([]string, len(s.algs))
	for i, a := range s.algs {
		c := icholy.Challenge{
			Realm:     s.realm,
			Nonce:     nonce,
			Algorithm: string(a),
			QOP:       []string{"auth"},
			Stale:     stale,
		}
		out[i] = c.String()
	}
	return out
}

// Secret is what the server knows about one user. Password works with
// every algorithm. An HA1 is the hex of H(username ":" realm ":" password)
// computed with this server's realm; it serves only its own algorithm and
// takes precedence over Password there. A user with neither for the
// algorithm the client chose is denied.
type Secret struct {
	Password      string
	HA1MD5        string
	HA1SHA256     string
	HA1SHA512_256 string
}

// ha1 returns the configured HA1 for a, or "" if there is none or it is
// not hex of the right length.
func (sec Secret) ha1(a Algorithm) string {
	var h string
	switch a {
	case MD5:
		h = sec.HA1MD5
	case SHA256:
		h = sec.HA1SHA256
	case SHA512_256:
		h = sec.HA1SHA512_256
	}
	if len(h) != a.hexLen() || !isHex(h) {
		return ""
	}
	return h
}

// Check verifies the Authorization (or Proxy-Authorization) value of a
// request with the given SIP method. lookup returns the secret of a user
// name as the client sent it.
//
// Replays: with qop=auth each nonce count must be higher than the last
// one accepted for that nonce, so a copied request is Denied. Without qop
// (RFC 2069 style answers, which carry no count) a nonce is single use: a
// second use is Stale, so a client that reuses nonces for refreshes gets a
// fresh one without a failure, and a copied request gets nothing.
//
// The uri parameter is covered by the response but not compared with the
// Request-URI: proxies rewrite the Request-URI, and SIP digest is usually
// checked behind one. Callers that want the comparison can make it.
func (s *Server) Check(method, authorization string, lookup func(username string) (Secret, bool)) Result {
	c, err := parseCredentials(authorization)
	if err != nil {
		return denied(err)
	}
	if c.username == "" || c.nonce == "" || c.uri == "" || c.response == "" {
		return denied(fmt.Errorf("%w: missing username, nonce, uri or response", errMalformed))
	}
	// Everything up to the user lookup is independent of the user, so
	// early returns here leak nothing about which users exist.
	if c.realm != s.realm {
		return denied(fmt.Errorf("%w: %.64q", errRealm, c.realm))
	}
	alg, ok := parseAlgorithm(c.algorithm)
	if !ok || !s.offers(alg) {
		return denied(fmt.Errorf("%w: %.32q", errAlgorithm, c.algorithm))
	}
	var nc uint32
	switch {
	case c.qop == "":
	case strings.EqualFold(c.qop, "auth"):
		if nc, ok = parseNC(c.nc); !ok || c.cnonce == "" {
			return denied(fmt.Errorf("%w: qop=auth needs nc (8 hex digits, not 0) and cnonce", errMalformed))
		}
	default:
		return denied(fmt.Errorf("%w: %.32q", errQOP, c.qop))
	}
	if len(c.response) != alg.hexLen() || !isHex(c.response) {
		return denied(fmt.Errorf("%w: response is not %d hex digits", errMalformed, alg.hexLen()))
	}

	now := s.now().UnixNano()
	id, authentic := s.signer.open(c.nonce)
	var stale error
	if !authentic {
		stale = errNonceForeign
	} else if age := now - id.issued(); age > s.lifetime.Nanoseconds() || age < -s.lifetime.Nanoseconds() {
		stale = errNonceExpired
	}

	// The same work whatever the user: one HA1 and one response hash,
	// against a random password when the user is unknown or has no secret.
	secret, known := lookup(c.username)
	ha1Given := secret.ha1(alg)
	usable := known && (ha1Given != "" || secret.Password != "")
	password := s.dummy
	if usable {
		password = secret.Password
	}
	var ha1Buf, wantBuf, gotBuf [128]byte
	ha1 := alg.appendHA1(ha1Buf[:0], c.username, s.realm, password)
	if usable && ha1Given != "" {
		ha1 = appendLower(ha1Buf[:0], ha1Given)
	}
	want := alg.appendResponse(wantBuf[:0], ha1, responseInput{
		method: method, uri: c.uri, nonce: c.nonce, nc: c.nc, cnonce: c.cnonce, qop: c.qop,
	})
	match := subtle.ConstantTimeCompare(want, appendLower(gotBuf[:0], c.response)) == 1
	switch {
	case !known:
		return denied(fmt.Errorf("%w %.64q", errUnknownUser, c.username))
	case !usable:
		return denied(fmt.Errorf("%w: user %.64q, %s", errNoSecret, c.username, alg))
	case !match:
		return denied(fmt.Errorf("%w for %.64q", errWrongResponse, c.username))
	}

	if stale != nil {
		return Result{Outcome: Stale, Username: c.username, reason: stale}
	}
	switch s.replay.use(id, nc, now) {
	case replaySpent:
		return Result{Outcome: Stale, Username: c.username, reason: errNonceSpent}
	case replayForgotten:
		return Result{Outcome: Stale, Username: c.username, reason: errNonceForgotten}
	case replayReplayed:
		return denied(fmt.Errorf("%w: %s for %.64q", errReplayedNC, c.nc, c.username))
	}
	return Result{Outcome: OK, Username: c.username}
}

func (s *Server) offers(a Algorithm) bool {
	for _, b := range s.algs {
		if a == b {
			return true
		}
	}
	return false
}

// parseNC parses a nonce count: exactly 8 hex digits (RFC 7616 s.3.4),
// not zero.
func parseNC(s string) (uint32, bool) {
	if len(s) != 8 || !isHex(s) {
		return 0, false
	}
	var n uint32
	for i := 0; i < len(s); i++ {
		n = n<<4 | uint32(unhex(s[i]))
	}
	return n, n != 0
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if unhex(s[i]) < 0 {
			return false
		}
	}
	return true
}

func unhex(b byte) int {
	switch {
	case '0' <= b && b <= '9':
		return int(b - '0')
	case 'a' <= b && b <= 'f':
		return int(b - 'a' + 10)
	case 'A' <= b && b <= 'F':
		return int(b - 'A' + 10)
	}
	return -1
}

// appendLower appends ASCII-lowercased s (hex digits here) to dst.
func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		dst = append(dst, b)
	}
	return dst
}
