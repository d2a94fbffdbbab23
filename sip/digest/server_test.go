package digest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	icholy "github.com/icholy/digest"
)

const testRealm = "sipagent.test"

// testClock is a settable clock for WithClock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestServer(t testing.TB, realm string, opts ...Option) (*Server, *testClock) {
	t.Helper()
	clk := &testClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	opts = append([]Option{WithClock(clk.now), WithSecret([]byte("test secret, 32 bytes long......"))}, opts...)
	s, err := NewServer(realm, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s, clk
}

// users is a lookup for testRealm with a password user, an HA1-only user
// and a user with no usable secret.
func users() func(string) (Secret, bool) {
	bob := Secret{
		HA1MD5:    string(MD5.appendHA1(nil, "bob", testRealm, "builder")),
		HA1SHA256: strings.ToUpper(string(SHA256.appendHA1(nil, "bob", testRealm, "builder"))),
	}
	table := map[string]Secret{
		"alice": {Password: "wonderland"},
		"bob":   bob,
		"carol": {},
	}
	return func(name string) (Secret, bool) {
		s, ok := table[name]
		return s, ok
	}
}

// answer signs a request with icholy/digest, as a client would.
func answer(t testing.TB, challenge, method, uri, user, password string, nc int) string {
	t.Helper()
	chal, err := icholy.ParseChallenge(challenge)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := icholy.Digest(chal, icholy.Options{Method: method, URI: uri, Username: user, Password: password, Count: nc})
	if err != nil {
		t.Fatal(err)
	}
	return cred.String()
}

func wantOutcome(t *testing.T, r Result, want Outcome, reason error) {
	t.Helper()
	if r.Outcome != want {
		t.Fatalf("outcome %v (%s), want %v", r.Outcome, r.Reason(), want)
	}
	if reason != nil && !errors.Is(r.reason, reason) {
		t.Fatalf("reason %q, want %q", r.Reason(), reason)
	}
}

// The RFC examples carry nonces this server did not issue, so a correct
// digest on them is Stale (good password, unusable nonce) and a wrong one
// is Denied: that pins the response computation of Check to the vectors.
func TestCheckRFCVectors(t *testing.T) {
	for _, v := range rfcVectors {
		t.Run(v.name, func(t *testing.T) {
			s, _ := newTestServer(t, v.realm, WithAlgorithms(v.alg))
			lookup := func(name string) (Secret, bool) {
				return Secret{Password: v.password}, name == v.username
			}
			h := fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", algorithm=%s, `+
				`qop=%s, nc=%s, cnonce="%s", response="%s"`,
				v.username, v.realm, v.nonce, v.uri, v.alg, v.qop, v.nc, v.cnonce, v.response)
			r := s.Check(v.method, h, lookup)
			wantOutcome(t, r, Stale, errNonceForeign)
			if r.Username != v.username {
				t.Errorf("username %q", r.Username)
			}
			// Uppercase hex is the same response.
			wantOutcome(t, s.Check(v.method, strings.Replace(h, v.response, strings.ToUpper(v.response), 1), lookup), Stale, nil)
			// One bit off is not.
			wrong := strings.Replace(h, v.response, "0"+v.response[1:], 1)
			if v.response[0] == '0' {
				wrong = strings.Replace(h, v.response, "1"+v.response[1:], 1)
			}
			wantOutcome(t, s.Check(v.method, wrong, lookup), Denied, errWrongResponse)
			wantOutcome(t, s.Check("POST", h, lookup), Denied, errWrongResponse)
		})
	}
}

func TestCheckRoundTrip(t *testing.T) {
	for _, alg := range []Algorithm{MD5, SHA256, SHA512_256} {
		for _, qop := range []bool{true, false} {
			for _, user := range []struct{ name, password string }{{"alice", "wonderland"}, {"bob", "builder"}} {
				if user.name == "bob" && alg == SHA512_256 {
					continue // bob has no SHA-512-256 HA1: see TestCheckSecrets
				}
				t.Run(fmt.Sprintf("%s/qop=%v/%s", alg, qop, user.name), func(t *testing.T) {
					s, _ := newTestServer(t, testRealm, WithAlgorithms(alg))
					chal := s.Challenge(false)[0]
					if !qop {
						chal = strings.Replace(chal, `, qop="auth"`, "", 1)
					}
					h := answer(t, chal, "REGISTER", "sip:"+testRealm, user.name, user.password, 1)
					if strings.Contains(h, "qop=") != qop {
						t.Fatalf("answer %s: qop presence wrong", h)
					}
					r := s.Check("REGISTER", h, users())
					wantOutcome(t, r, OK, nil)
					if r.Username != user.name || r.Reason() != "" {
						t.Errorf("result %+v", r)
					}
					if qop {
						// Same nonce, next count: accepted; a replay is not.
						h2 := answer(t, chal, "INVITE", "sip:agent@"+testRealm, user.name, user.password, 2)
						wantOutcome(t, s.Check("INVITE", h2, users()), OK, nil)
						wantOutcome(t, s.Check("INVITE", h2, users()), Denied, errReplayedNC)
						wantOutcome(t, s.Check("REGISTER", h, users()), Denied, errReplayedNC)
					} else {
						// No qop: single use, a second use is stale.
						wantOutcome(t, s.Check("REGISTER", h, users()), Stale, errNonceSpent)
					}
				})
			}
		}
	}
}

func TestCheckNonceCount(t *testing.T) {
	s, _ := newTestServer(t, testRealm)
	chal := s.Challenge(false)[0]
	check := func(nc int) Result {
		return s.Check("INVITE", answer(t, chal, "INVITE", "sip:a@b", "alice", "wonderland", nc), users())
	}
	wantOutcome(t, check(1), OK, nil)
	wantOutcome(t, check(2), OK, nil)
	wantOutcome(t, check(7), OK, nil) // gaps are fine: lost requests
	wantOutcome(t, check(7), Denied, errReplayedNC)
	wantOutcome(t, check(3), Denied, errReplayedNC)
	wantOutcome(t, check(8), OK, nil)
}

func TestCheckStale(t *testing.T) {
	s, clk := newTestServer(t, testRealm, WithNonceLifetime(time.Minute))
	chal := s.Challenge(false)[0]
	h := answer(t, chal, "REGISTER", "sip:x", "alice", "wonderland", 1)
	clk.advance(time.Minute + time.Second)
	r := s.Check("REGISTER", h, users())
	wantOutcome(t, r, Stale, errNonceExpired)
	if r.Username != "alice" {
		t.Errorf("username %q", r.Username)
	}
	// A wrong password on an expired nonce is Denied, not Stale: stale
	// would confirm the guess.
	wantOutcome(t, s.Check("REGISTER", answer(t, chal, "REGISTER", "sip:x", "alice", "guess", 1), users()), Denied, errWrongResponse)

	// The retry on a stale challenge works.
	again := s.Challenge(true)
	if !strings.Contains(again[0], "stale=true") {
		t.Fatalf("stale challenge %q", again[0])
	}
	wantOutcome(t, s.Check("REGISTER", answer(t, again[0], "REGISTER", "sip:x", "alice", "wonderland", 1), users()), OK, nil)

	// Nonces from another instance (a restart) are stale too.
	other, _ := newTestServer(t, testRealm, WithSecret([]byte("a different secret of 32 bytes..")))
	h = answer(t, other.Challenge(false)[0], "REGISTER", "sip:x", "alice", "wonderland", 1)
	wantOutcome(t, s.Check("REGISTER", h, users()), Stale, errNonceForeign)
}

// Unknown users and wrong passwords must be indistinguishable from the
// outside: same exported fields, and the same work (a response is
// computed against a dummy password for unknown users).
func TestCheckUnknownUserLooksLikeWrongPassword(t *testing.T) {
	s, _ := newTestServer(t, testRealm)
	chal := s.Challenge(false)[0]
	var lookups []string
	lookup := func(name string) (Secret, bool) {
		lookups = append(lookups, name)
		return users()(name)
	}
	unknown := s.Check("INVITE", answer(t, chal, "INVITE", "sip:a@b", "mallory", "wonderland", 1), lookup)
	wrong := s.Check("INVITE", answer(t, chal, "INVITE", "sip:a@b", "alice", "guess", 2), lookup)
	noSecret := s.Check("INVITE", answer(t, chal, "INVITE", "sip:a@b", "carol", "", 3), lookup)
	wantOutcome(t, unknown, Denied, errUnknownUser)
	wantOutcome(t, wrong, Denied, errWrongResponse)
	wantOutcome(t, noSecret, Denied, errNoSecret)
	for _, r := range []Result{wrong, noSecret} {
		if r.Outcome != unknown.Outcome || r.Username != unknown.Username {
			t.Errorf("exported fields differ: %+v vs %+v", r, unknown)
		}
	}
	if unknown.Username != "" {
		t.Errorf("denied result names a user: %q", unknown.Username)
	}
	if fmt.Sprint(lookups) != "[mallory alice carol]" {
		t.Errorf("lookups %v: every well-formed attempt must reach the lookup", lookups)
	}
	if !strings.Contains(unknown.Reason(), "mallory") || !strings.Contains(wrong.Reason(), "alice") {
		t.Errorf("reasons should name the user for logs: %q, %q", unknown.Reason(), wrong.Reason())
	}
}

func TestCheckSecrets(t *testing.T) {
	s, _ := newTestServer(t, testRealm, WithAlgorithms(SHA512_256, SHA256, MD5))
	chals := s.Challenge(false)
	lookup := users()
	// bob has HA1s for MD5 (lowercase) and SHA-256 (uppercase) only.
	wantOutcome(t, s.Check("REGISTER", answer(t, chals[2], "REGISTER", "sip:x", "bob", "builder", 1), lookup), OK, nil)
	wantOutcome(t, s.Check("REGISTER", answer(t, chals[1], "REGISTER", "sip:x", "bob", "builder", 2), lookup), OK, nil)
	wantOutcome(t, s.Check("REGISTER", answer(t, chals[0], "REGISTER", "sip:x", "bob", "builder", 3), lookup), Denied, errNoSecret)
	wantOutcome(t, s.Check("REGISTER", answer(t, chals[2], "REGISTER", "sip:x", "bob", "wrong", 4), lookup), Denied, errWrongResponse)

	// An HA1 wins over the password for its algorithm; a malformed HA1 is
	// ignored and the password is used.
	both := func(string) (Secret, bool) {
		return Secret{Password: "new", HA1MD5: string(MD5.appendHA1(nil, "dave", testRealm, "old")), HA1SHA256: "not hex"}, true
	}
	wantOutcome(t, s.Check("REGISTER", answer(t, chals[2], "REGISTER", "sip:x", "dave", "old", 5), both), OK, nil)
	wantOutcome(t, s.Check("REGISTER", answer(t, chals[2], "REGISTER", "sip:x", "dave", "new", 6), both), Denied, errWrongResponse)
	wantOutcome(t, s.Check("REGISTER", answer(t, chals[1], "REGISTER", "sip:x", "dave", "new", 7), both), OK, nil)
}

func TestCheckRefusals(t *testing.T) {
	s, _ := newTestServer(t, testRealm, WithAlgorithms(SHA256))
	chal := s.Challenge(false)[0]
	good := answer(t, chal, "REGISTER", "sip:x", "alice", "wonderland", 1)
	nonce := s.signer.issue(s.now().UnixNano())
	base := `Digest username="alice", realm="` + testRealm + `", nonce="` + nonce + `", uri="sip:x", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="c", response="` + strings.Repeat("0", 64) + `"`
	tests := []struct {
		name, in string
		reason   error
	}{
		{"wrong realm", strings.Replace(good, testRealm, "other", 1), errRealm},
		{"no realm", strings.Replace(good, `realm="`+testRealm+`", `, "", 1), errRealm},
		{"MD5 not offered", strings.Replace(base, "algorithm=SHA-256", "algorithm=MD5", 1), errAlgorithm},
		{"default MD5 not offered", strings.Replace(base, "algorithm=SHA-256, ", "", 1), errAlgorithm},
		{"sess", strings.Replace(base, "algorithm=SHA-256", "algorithm=SHA-256-sess", 1), errAlgorithm},
		{"auth-int", strings.Replace(base, "qop=auth", "qop=auth-int", 1), errQOP},
		{"nc short", strings.Replace(base, "nc=00000001", "nc=1", 1), errMalformed},
		{"nc zero", strings.Replace(base, "nc=00000001", "nc=00000000", 1), errMalformed},
		{"nc not hex", strings.Replace(base, "nc=00000001", "nc=0000000g", 1), errMalformed},
		{"nc long", strings.Replace(base, "nc=00000001", "nc=100000001", 1), errMalformed},
		{"no nc", strings.Replace(base, "nc=00000001, ", "", 1), errMalformed},
		{"no cnonce", strings.Replace(base, `cnonce="c", `, "", 1), errMalformed},
		{"response short", strings.Replace(base, strings.Repeat("0", 64), strings.Repeat("0", 32), 1), errMalformed},
		{"response not hex", strings.Replace(base, strings.Repeat("0", 64), strings.Repeat("z", 64), 1), errMalformed},
		{"no username", strings.Replace(base, `username="alice", `, "", 1), errMalformed},
		{"empty username", strings.Replace(base, `username="alice"`, `username=""`, 1), errMalformed},
		{"no uri", strings.Replace(base, `uri="sip:x", `, "", 1), errMalformed},
		{"no nonce", strings.Replace(base, `nonce="`+nonce+`", `, "", 1), errMalformed},
		{"no response", strings.Replace(base, `, response="`+strings.Repeat("0", 64)+`"`, "", 1), errMalformed},
		{"duplicate response", base + `, response="` + strings.Repeat("1", 64) + `"`, errMalformed},
		{"duplicate nc", strings.Replace(good, "nc=00000001", "nc=00000001, nc=00000002", 1), errMalformed},
		{"huge nonce", strings.Replace(base, nonce, strings.Repeat("A", 5000), 1), errMalformed},
		{"basic", "Basic YWxpY2U6d29uZGVybGFuZA==", errMalformed},
		{"empty", "", errMalformed},
		{"wrong response", base, errWrongResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.Check("REGISTER", tt.in, users())
			wantOutcome(t, r, Denied, tt.reason)
			if r.Username != "" {
				t.Errorf("denied result names %q", r.Username)
			}
		})
	}
	// None of that spent the good answer.
	wantOutcome(t, s.Check("REGISTER", good, users()), OK, nil)
}

func TestChallenge(t *testing.T) {
	s, _ := newTestServer(t, testRealm)
	chals := s.Challenge(false)
	if len(chals) != 2 {
		t.Fatalf("%d challenges, want SHA-256 and MD5", len(chals))
	}
	var nonce string
	for i, want := range []string{"SHA-256", "MD5"} {
		c, err := icholy.ParseChallenge(chals[i])
		if err != nil {
			t.Fatal(err)
		}
		if c.Algorithm != want || c.Realm != testRealm || c.Stale || !c.SupportsQOP("auth") || len(c.QOP) != 1 {
			t.Errorf("challenge %d: %q", i, chals[i])
		}
		if i > 0 && c.Nonce != nonce {
			t.Errorf("challenges of one response should share a nonce")
		}
		nonce = c.Nonce
	}
	if !strings.HasPrefix(chals[0], "Digest ") {
		t.Errorf("no scheme: %q", chals[0])
	}
	if s.Challenge(false)[0] == chals[0] {
		t.Error("nonce reused across challenges")
	}
	for _, v := range s.Challenge(true) {
		if c, _ := icholy.ParseChallenge(v); c == nil || !c.Stale {
			t.Errorf("stale challenge %q", v)
		}
	}
}

func TestNewServerErrors(t *testing.T) {
	for name, tt := range map[string]struct {
		realm string
		opt   Option
		want  error
	}{
		"empty realm":      {"", nil, ErrRealm},
		"control in realm": {"a\r\nb", nil, ErrRealm},
		"non-ASCII realm":  {"r\u00e9alm", nil, ErrRealm},
		"lifetime":         {"r", WithNonceLifetime(0), ErrOption},
		"no algorithms":    {"r", WithAlgorithms(), ErrOption},
		"unknown alg":      {"r", WithAlgorithms("MD5-sess"), ErrAlgorithm},
		"duplicate alg":    {"r", WithAlgorithms(MD5, MD5), ErrOption},
		"nil clock":        {"r", WithClock(nil), ErrOption},
		"short secret":     {"r", WithSecret([]byte("short")), ErrOption},
		"max nonces":       {"r", WithMaxNonces(0), ErrOption},
	} {
		t.Run(name, func(t *testing.T) {
			var opts []Option
			if tt.opt != nil {
				opts = append(opts, tt.opt)
			}
			if _, err := NewServer(tt.realm, opts...); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	s, err := NewServer(`realm "quoted"`)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := icholy.ParseChallenge(s.Challenge(false)[0]); err != nil || c.Realm != `realm "quoted"` {
		t.Errorf("quoted realm round trip: %v, %+v", err, c)
	}
	if s.Realm() != `realm "quoted"` {
		t.Errorf("Realm() = %q", s.Realm())
	}
}

func TestCheckReplayTableBounded(t *testing.T) {
	s, _ := newTestServer(t, testRealm, WithMaxNonces(8))
	var first string
	for i := range 50 {
		chal := s.Challenge(false)[0]
		h := answer(t, chal, "REGISTER", "sip:x", "alice", "wonderland", 1)
		if i == 0 {
			first = answer(t, chal, "REGISTER", "sip:x", "alice", "wonderland", 2)
		}
		wantOutcome(t, s.Check("REGISTER", h, users()), OK, nil)
	}
	if n := len(s.replay.entries); n > 8 {
		t.Fatalf("%d entries, cap 8", n)
	}
	// The first nonce was evicted while still valid: it must not start
	// over (it is stale), even with a count never seen.
	wantOutcome(t, s.Check("REGISTER", first, users()), Stale, errNonceForgotten)
}

func TestCheckConcurrent(t *testing.T) {
	s, _ := newTestServer(t, testRealm)
	chal := s.Challenge(false)[0]
	const workers, per = 8, 50
	headers := make([]string, workers*per)
	for i := range headers {
		headers[i] = answer(t, chal, "INVITE", "sip:a@b", "alice", "wonderland", i+1)
	}
	var wg sync.WaitGroup
	results := make([]Result, len(headers))
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(headers); i += workers {
				results[i] = s.Check("INVITE", headers[i], users())
			}
		})
	}
	wg.Wait()
	// Out-of-order arrival refuses some counts; every result is OK or a
	// replay refusal, and each count is accepted at most once.
	ok := 0
	for _, r := range results {
		switch {
		case r.Outcome == OK:
			ok++
		case errors.Is(r.reason, errReplayedNC):
		default:
			t.Fatalf("unexpected %v: %s", r.Outcome, r.Reason())
		}
	}
	if ok == 0 {
		t.Fatal("nothing accepted")
	}
}
