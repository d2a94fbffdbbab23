package sip_test

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	siplib "github.com/emiago/sipgo/sip"
	icholy "github.com/icholy/digest"
	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/sip"
	"github.com/sipagent/sipagent/sip/digest"
)

// The policy tests check inbound admission as an operator would: who is
// let in by address, who is challenged, what a refused caller sees, and
// that the failure limiter, replay and nonce checks hold on the wire.
// They talk to a real Server with rawPeer (robust_test.go), answering
// challenges with sip/digest's client.

const (
	polRealm   = "sipagent.test"
	polAlicePW = "alice-correct-horse"
	polBobPW   = "bob-battery-staple"
	polCarolPW = "carol-by-ha1-only"
)

// polUsers are alice and bob with passwords, and carol with HA1 secrets
// only (computed for polRealm), as an operator who keeps no plain
// passwords would configure her.
func polUsers() []sip.User {
	ha1 := func(h func([]byte) []byte) string {
		return hex.EncodeToString(h([]byte("carol:" + polRealm + ":" + polCarolPW)))
	}
	return []sip.User{
		{Username: "alice", Secret: digest.Secret{Password: polAlicePW}},
		{Username: "bob", Secret: digest.Secret{Password: polBobPW}},
		{Username: "carol", Secret: digest.Secret{
			HA1MD5:    ha1(func(b []byte) []byte { s := md5.Sum(b); return s[:] }),
			HA1SHA256: ha1(func(b []byte) []byte { s := sha256.Sum256(b); return s[:] }),
		}},
	}
}

// polWithUsers removes the harness's loopback peer and configures users.
func polWithUsers(users ...sip.User) serverOpt {
	return func(c *sip.Config) {
		c.Peers = nil
		c.Users = users
	}
}

func polWithAuth(a sip.AuthConfig) serverOpt { return func(c *sip.Config) { c.Auth = a } }

// polWithPeers replaces the harness's loopback peer.
func polWithPeers(peers ...sip.Peer) serverOpt { return func(c *sip.Config) { c.Peers = peers } }

// polSettle is how long a policy test's server waits before it closes.
const polSettle = 100 * time.Millisecond

// polAlgorithms are the algorithms polServer offers unless told: SHA-256
// for the clients that have it, MD5 for the rest.
var polAlgorithms = []digest.Algorithm{digest.SHA256, digest.MD5}

// polServer starts a server with polUsers, no peers, and auth (its realm
// polRealm and its algorithms polAlgorithms unless set), its log captured.
func polServer(t *testing.T, agents map[string]agent.Agent, auth sip.AuthConfig) (*sip.Server, *logRecords) {
	t.Helper()
	if auth.Realm == "" {
		auth.Realm = polRealm
	}
	if auth.Algorithms == nil {
		auth.Algorithms = polAlgorithms
	}
	return polStart(t, agents, polWithUsers(polUsers()...), polWithAuth(auth))
}

// polStart is robustServer that lets requests in flight settle before the
// server closes; see polDial.
func polStart(t *testing.T, agents map[string]agent.Agent, opts ...serverOpt) (*sip.Server, *logRecords) {
	t.Helper()
	srv, recs := robustServer(t, agents, opts...)
	t.Cleanup(func() { time.Sleep(polSettle) })
	return srv, recs
}

// polDial is dialRaw for the policy tests. At the end of the test, before
// the server closes, a UDP peer makes one OPTIONS round trip, and then
// (polStart) the server waits polSettle, so that an ACK the peer sent
// last has been through sipgo's transaction layer. sipgo handles each
// request in a goroutine of its own; one that reaches the transaction
// layer after Server.Close has terminated the transactions and emptied
// the UDP connection pool makes sipgo open a new UDP socket to answer
// from, which nothing closes (goleak then fails the package).
func polDial(t *testing.T, srv *sip.Server, transport string) *rawPeer {
	t.Helper()
	p := dialRaw(t, srv, transport)
	if transport == "udp" {
		t.Cleanup(func() {
			opt := rawReq{Method: "OPTIONS"}
			p.send(p.text(&opt))
			deadline := time.Now().Add(rawWait)
			for {
				msg, err := p.next(time.Until(deadline))
				if err != nil {
					return // the test has failed already, or will
				}
				if res, ok := msg.(*siplib.Response); ok && res.CallID() != nil && res.CallID().Value() == opt.CallID {
					return
				}
			}
		})
	}
	return p
}

// polInvite is an INVITE to rec offering PCMU on a socket of the test's.
func polInvite(t *testing.T) rawReq {
	t.Helper()
	port := listenRTP(t).LocalAddr().(*net.UDPAddr).Port
	return rawReq{Method: "INVITE", Body: rawOffer(port, "0", "a=rtpmap:0 PCMU/8000")}
}

// polURI is the Request-URI rawPeer writes for user, which a client puts
// in the digest uri parameter.
func polURI(p *rawPeer, user string) string { return fmt.Sprintf("sip:%s@%s", user, p.server) }

// polChallenges returns the WWW-Authenticate values of a 401.
func polChallenges(t *testing.T, res *siplib.Response) []string {
	t.Helper()
	if res.StatusCode != 401 {
		t.Fatalf("%d %s, want 401 Unauthorized", res.StatusCode, res.Reason)
	}
	var vals []string
	for _, h := range res.GetHeaders("WWW-Authenticate") {
		vals = append(vals, h.Value())
	}
	if len(vals) == 0 {
		t.Fatal("401 without WWW-Authenticate")
	}
	return vals
}

// polChallenge sends r, which carries no credentials, and returns the
// challenge values of the 401 it gets.
func polChallenge(t *testing.T, p *rawPeer, r *rawReq) []string {
	t.Helper()
	return polChallenges(t, p.do(r))
}

// polAnswer returns the credentials of user with password for method to
// uri under the challenge values vals.
func polAnswer(t *testing.T, user, password string, vals []string, method, uri string) string {
	t.Helper()
	c := digest.NewClient(user, password)
	if _, err := c.Challenged(vals); err != nil {
		t.Fatalf("challenge %q: %v", vals, err)
	}
	auth, err := c.Authorization(method, uri)
	if err != nil {
		t.Fatal(err)
	}
	return auth
}

// polRetry is r sent again with credentials, as RFC 3261 s.22.2 has a
// client do: same Call-ID and From tag, next CSeq, new transaction. Any
// Authorization r carried is replaced.
func polRetry(r rawReq, auth string) rawReq {
	n := r
	n.CSeq++
	n.Branch = ""
	n.Headers = slices.DeleteFunc(slices.Clone(r.Headers), func(h string) bool {
		return strings.HasPrefix(strings.ToLower(h), "authorization:")
	})
	n.Headers = append(n.Headers, "Authorization: "+auth)
	return n
}

// polFresh is r as a new request with credentials: new Call-ID, From
// tag and branch.
func polFresh(r rawReq, auth string) rawReq {
	r.CallID, r.FromTag, r.Branch, r.CSeq = "", "", "", 0
	return polRetry(r, auth)
}

// polSpy is an agent that reports every call it gets and when it ends.
type polSpy struct {
	calls chan agent.Info
	ended chan struct{}
}

func newPolSpy() *polSpy {
	return &polSpy{calls: make(chan agent.Info, 16), ended: make(chan struct{}, 16)}
}

func (s *polSpy) Serve(ctx context.Context, call agent.Call) error {
	s.calls <- call.Info()
	defer func() { s.ended <- struct{}{} }()
	frame := make([]int16, agent.FrameSamples)
	for {
		if _, err := call.ReadAudio(ctx, frame); err != nil {
			return nil
		}
	}
}

func (s *polSpy) next(t *testing.T) agent.Info {
	t.Helper()
	select {
	case info := <-s.calls:
		return info
	case <-time.After(rawWait):
		t.Fatal("the call did not reach the agent")
		return agent.Info{}
	}
}

func (s *polSpy) waitEnded(t *testing.T) {
	t.Helper()
	select {
	case <-s.ended:
	case <-time.After(rawWait):
		t.Fatal("the agent did not finish")
	}
}

// polAnswered checks that inv got a 200 with an SDP answer, completes
// the call (ACK, then BYE once the agent has it) and returns what the
// agent was told about the call.
func polAnswered(t *testing.T, p *rawPeer, inv rawReq, res *siplib.Response, spy *polSpy) agent.Info {
	t.Helper()
	if res.StatusCode != 200 {
		t.Fatalf("INVITE with credentials: %d %s, want 200", res.StatusCode, res.Reason)
	}
	if ct := header(res, "Content-Type"); ct != "application/sdp" || !strings.Contains(string(res.Body()), "m=audio ") {
		t.Fatalf("200 without an SDP answer (Content-Type %q):\n%s", ct, res.Body())
	}
	c := &rawCall{p: p, inv: inv, ok: res}
	c.ack()
	info := spy.next(t)
	if bye := c.bye(); bye.StatusCode != 200 {
		t.Fatalf("BYE: %d %s, want 200", bye.StatusCode, bye.Reason)
	}
	spy.waitEnded(t)
	return info
}

// polNoResponse fails the test if the server sends p anything within d.
func polNoResponse(t *testing.T, p *rawPeer, d time.Duration, what string) {
	t.Helper()
	msg, err := p.next(d)
	if err == nil {
		t.Fatalf("%s: got a response, want none:\n%s", what, msg)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("%s: read: %v, want a timeout", what, err)
	}
}

// polChallengeParams parses challenge values.
func polChallengeParams(t *testing.T, vals []string) []*icholy.Challenge {
	t.Helper()
	out := make([]*icholy.Challenge, len(vals))
	for i, v := range vals {
		c, err := icholy.ParseChallenge(v)
		if err != nil {
			t.Fatalf("WWW-Authenticate %q: %v", v, err)
		}
		out[i] = c
	}
	return out
}

// 1. A caller who is not a peer, with users configured, is challenged
// in the configured realm, with qop="auth" and one challenge per
// configured algorithm in the configured order, and no agent runs.
func TestPolicyChallengesNonPeer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		auth      sip.AuthConfig
		wantRealm string
		wantAlgs  []string // nil: MD5 among them, whatever else the default offers
	}{
		{"SHA-256 and MD5", sip.AuthConfig{Realm: polRealm, Algorithms: []digest.Algorithm{digest.SHA256, digest.MD5}}, polRealm, []string{"SHA-256", "MD5"}},
		{"MD5 first", sip.AuthConfig{Realm: polRealm, Algorithms: []digest.Algorithm{digest.MD5, digest.SHA256}}, polRealm, []string{"MD5", "SHA-256"}},
		{"defaults", sip.AuthConfig{}, "sipagent", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := polStart(t, map[string]agent.Agent{"rec": notCalled(t)},
				polWithUsers(polUsers()...), polWithAuth(tc.auth))
			for _, transport := range []string{"udp", "tcp"} {
				p := polDial(t, srv, transport)
				inv := polInvite(t)
				res := p.do(&inv)
				if res.StatusCode != 401 || res.Reason != "Unauthorized" {
					t.Fatalf("%s: %d %s, want 401 Unauthorized", transport, res.StatusCode, res.Reason)
				}
				if tag, _ := res.To().Params.Get("tag"); tag == "" {
					t.Errorf("%s: 401 without a To tag", transport)
				}
				chals := polChallengeParams(t, polChallenges(t, res))
				var algs []string
				for _, c := range chals {
					algs = append(algs, c.Algorithm)
					if c.Realm != tc.wantRealm {
						t.Errorf("%s: realm %q, want %q", transport, c.Realm, tc.wantRealm)
					}
					if !slices.Equal(c.QOP, []string{"auth"}) {
						t.Errorf("%s: qop %q, want auth", transport, c.QOP)
					}
					if c.Nonce == "" || c.Nonce != chals[0].Nonce {
						t.Errorf("%s: nonces %q and %q, want one shared nonce", transport, chals[0].Nonce, c.Nonce)
					}
					if c.Stale {
						t.Errorf("%s: stale=true on a first challenge", transport)
					}
				}
				switch {
				case tc.wantAlgs != nil && !slices.Equal(algs, tc.wantAlgs):
					t.Errorf("%s: algorithms %q, want %q", transport, algs, tc.wantAlgs)
				case tc.wantAlgs == nil && !slices.Contains(algs, "MD5"):
					t.Errorf("%s: algorithms %q by default, want MD5 among them", transport, algs)
				}
				// Each challenge has its own nonce.
				again := polInvite(t)
				if n := polChallengeParams(t, polChallenge(t, p, &again))[0].Nonce; n == chals[0].Nonce {
					t.Errorf("%s: two challenges share nonce %q", transport, n)
				}
			}
			waitIdle(t, srv)
		})
	}

	// A server offering only SHA-256 refuses an MD5 answer.
	t.Run("algorithm not offered", func(t *testing.T) {
		t.Parallel()
		sha, _ := polServer(t, map[string]agent.Agent{"rec": notCalled(t)}, sip.AuthConfig{Algorithms: []digest.Algorithm{digest.SHA256}})
		md5srv, _ := polServer(t, map[string]agent.Agent{"rec": notCalled(t)}, sip.AuthConfig{Algorithms: []digest.Algorithm{digest.MD5}})
		p := polDial(t, sha, "udp")
		inv := polInvite(t)
		polChallenge(t, p, &inv)
		// An MD5 answer to a challenge from the MD5 server, same realm,
		// sent to the SHA-256 one.
		q := polDial(t, md5srv, "udp")
		other := polInvite(t)
		vals := polChallenge(t, q, &other)
		r := polRetry(inv, polAnswer(t, "alice", polAlicePW, vals, "INVITE", polURI(p, inv.User)))
		if res := p.do(&r); res.StatusCode != 403 {
			t.Fatalf("MD5 answer to a SHA-256-only server: %d %s, want 403", res.StatusCode, res.Reason)
		}
		waitIdle(t, sha)
	})
}

// 2. The right password answers the challenge: the call is answered and
// the agent is told who called.
func TestPolicyUserGetsIn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, transport, user, password string
		onlyMD5                         bool // answer the MD5 challenge, as phones without SHA-256 do
		wantAlg                         string
	}{
		{"udp SHA-256", "udp", "alice", polAlicePW, false, "SHA-256"},
		{"tcp SHA-256", "tcp", "alice", polAlicePW, false, "SHA-256"},
		{"udp MD5", "udp", "alice", polAlicePW, true, "MD5"},
		{"HA1 SHA-256", "udp", "carol", polCarolPW, false, "SHA-256"},
		{"HA1 MD5", "udp", "carol", polCarolPW, true, "MD5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			spy := newPolSpy()
			srv, recs := polServer(t, map[string]agent.Agent{"rec": spy}, sip.AuthConfig{})
			p := polDial(t, srv, tc.transport)
			inv := polInvite(t)
			vals := polChallenge(t, p, &inv)
			if tc.onlyMD5 {
				vals = slices.DeleteFunc(vals, func(v string) bool { return !strings.Contains(v, "algorithm=MD5") })
			}
			auth := polAnswer(t, tc.user, tc.password, vals, "INVITE", polURI(p, inv.User))
			if !strings.Contains(auth, "algorithm="+tc.wantAlg) {
				t.Fatalf("client answered %q, want algorithm %s", auth, tc.wantAlg)
			}
			retry := polRetry(inv, auth)
			info := polAnswered(t, p, retry, p.do(&retry), spy)
			if want := (agent.Caller{Kind: agent.CallerUser, Name: tc.user}); info.Caller != want {
				t.Errorf("Info().Caller = %+v, want %+v", info.Caller, want)
			}
			if info.Account != "" {
				t.Errorf("Info().Account = %q, want none", info.Account)
			}
			waitIdle(t, srv)
			if n := len(recs.find("authentication failed")); n != 0 {
				t.Errorf("%d \"authentication failed\" records, want none", n)
			}
		})
	}
}

// polRawFinal reads the final response to the request with the given
// Via branch as it came off the wire.
func polRawFinal(t *testing.T, p *rawPeer, branch string) (string, *siplib.Response) {
	t.Helper()
	deadline := time.Now().Add(rawWait)
	for {
		if err := p.conn.SetReadDeadline(deadline); err != nil {
			t.Fatal(err)
		}
		var raw []byte
		if p.rd == nil {
			buf := make([]byte, 65536)
			n, err := p.conn.Read(buf)
			if err != nil {
				t.Fatalf("no final response: %v", err)
			}
			raw = buf[:n]
		} else {
			var err error
			if raw, err = readStreamMessage(p.rd); err != nil {
				t.Fatalf("no final response: %v", err)
			}
		}
		msg, err := siplib.ParseMessage(raw)
		if err != nil {
			t.Fatalf("unparseable response: %v\n%s", err, raw)
		}
		res, ok := msg.(*siplib.Response)
		if !ok || res.IsProvisional() || res.Via() == nil {
			continue
		}
		if b, _ := res.Via().Params.Get("branch"); b == branch {
			return string(raw), res
		}
	}
}

// 3. An unknown user and a known user with the wrong password get the
// same response, byte for byte, so a scanner learns no user names.
func TestPolicyUnknownUserLooksLikeWrongPassword(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			srv, recs := polServer(t, map[string]agent.Agent{"rec": notCalled(t)}, sip.AuthConfig{MaxFailures: 100})
			p := polDial(t, srv, transport)
			first := polInvite(t)
			vals := polChallenge(t, p, &first)
			uri := polURI(p, first.User)

			// The two requests differ only in their credentials and
			// branch: same Call-ID, From tag, CSeq and body.
			base := polInvite(t)
			base.CallID, base.FromTag, base.CSeq = "policy-same-call-id", "samefromtag", 7
			var texts []string
			for _, auth := range []string{
				polAnswer(t, "mallory", polAlicePW, vals, "INVITE", uri), // no such user
				polAnswer(t, "alice", "not-"+polAlicePW, vals, "INVITE", uri),
			} {
				r := base
				r.Branch = siplib.GenerateBranchN(16)
				r.Headers = []string{"Authorization: " + auth}
				p.send(p.text(&r))
				raw, res := polRawFinal(t, p, r.Branch)
				p.send(p.ackText(&r, res, r.Branch))
				if res.StatusCode != 403 || res.Reason != "Forbidden" {
					t.Fatalf("%d %s, want 403 Forbidden", res.StatusCode, res.Reason)
				}
				tag, _ := res.To().Params.Get("tag")
				if tag == "" {
					t.Fatal("403 without a To tag")
				}
				masked := strings.Replace(raw, ";tag="+tag, ";tag=TO-TAG", 1)
				// The branch is the client's own, echoed in Via.
				texts = append(texts, strings.Replace(masked, r.Branch, "BRANCH", 1))
			}
			if texts[0] != texts[1] {
				t.Errorf("responses differ:\n--- unknown user:\n%s\n--- wrong password:\n%s", texts[0], texts[1])
			}
			// The operator's log says which it was.
			var reasons []string
			for _, r := range recs.find("authentication failed") {
				reasons = append(reasons, r.attrs["reason"])
			}
			if len(reasons) != 2 || !strings.Contains(reasons[0], "unknown user") || !strings.Contains(reasons[1], "wrong response") {
				t.Errorf("logged reasons %q, want an unknown user then a wrong response", reasons)
			}
			waitIdle(t, srv)
		})
	}
}

// 4. After MaxFailures wrong passwords a source is blocked: even the
// right password gets 403, and the operator is told.
func TestPolicyFailureLimiterBlocksSource(t *testing.T) {
	t.Parallel()
	srv, recs := polServer(t, map[string]agent.Agent{"rec": notCalled(t)}, sip.AuthConfig{MaxFailures: 3})
	p := polDial(t, srv, "udp")
	inv := polInvite(t)
	vals := polChallenge(t, p, &inv)
	uri := polURI(p, inv.User)
	wrong := digest.NewClient("alice", "guess")
	if _, err := wrong.Challenged(vals); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		auth, err := wrong.Authorization("INVITE", uri)
		if err != nil {
			t.Fatal(err)
		}
		r := polFresh(inv, auth)
		if res := p.do(&r); res.StatusCode != 403 {
			t.Fatalf("wrong password %d: %d %s, want 403", i+1, res.StatusCode, res.Reason)
		}
	}
	// The right password, on a nonce issued before the block.
	right := polFresh(inv, polAnswer(t, "alice", polAlicePW, vals, "INVITE", uri))
	if res := p.do(&right); res.StatusCode != 403 {
		t.Fatalf("right password while blocked: %d %s, want 403", res.StatusCode, res.Reason)
	}
	// A blocked source is not even challenged.
	bare := polInvite(t)
	if res := p.do(&bare); res.StatusCode != 403 {
		t.Fatalf("no credentials while blocked: %d %s, want 403", res.StatusCode, res.Reason)
	}
	// Another transport from the same address is blocked too.
	tcp := polDial(t, srv, "tcp")
	viaTCP := polInvite(t)
	if res := tcp.do(&viaTCP); res.StatusCode != 403 {
		t.Fatalf("no credentials over TCP while blocked: %d %s, want 403", res.StatusCode, res.Reason)
	}

	blocks := recs.find("blocking source after repeated authentication failures")
	if len(blocks) != 1 {
		t.Fatalf("%d \"blocking source\" records, want 1", len(blocks))
	}
	if b := blocks[0]; b.level != slog.LevelWarn || b.attrs["source"] != "127.0.0.1" || b.attrs["failures"] != "3" {
		t.Errorf("block record at %v with %v, want Warn with source 127.0.0.1 and failures 3", b.level, b.attrs)
	}
	if n := len(recs.find("authentication failed")); n != 3 {
		t.Errorf("%d \"authentication failed\" records, want 3 (blocked requests are not checked)", n)
	}
	if n := len(recs.find("refused: source is blocked after authentication failures")); n != 3 {
		t.Errorf("%d \"source is blocked\" records, want 3", n)
	}
	waitIdle(t, srv)
}

// 5. Credentials copied off the wire do not let a second call in: the
// same nonce count on a new transaction is refused, while the client's
// next count on the same nonce is accepted.
func TestPolicyReplayedCredentialsRefused(t *testing.T) {
	t.Parallel()
	spy := newPolSpy()
	srv, recs := polServer(t, map[string]agent.Agent{"rec": spy}, sip.AuthConfig{})
	p := polDial(t, srv, "udp")
	inv := polInvite(t)
	vals := polChallenge(t, p, &inv)
	uri := polURI(p, inv.User)
	client := digest.NewClient("alice", polAlicePW)
	if _, err := client.Challenged(vals); err != nil {
		t.Fatal(err)
	}
	auth, err := client.Authorization("INVITE", uri)
	if err != nil {
		t.Fatal(err)
	}
	first := polRetry(inv, auth)
	polAnswered(t, p, first, p.do(&first), spy)

	// An eavesdropper sends the same Authorization, from another socket.
	eve := polDial(t, srv, "udp")
	replay := polFresh(polInvite(t), auth)
	if res := eve.do(&replay); res.StatusCode != 403 {
		t.Fatalf("replayed credentials: %d %s, want 403", res.StatusCode, res.Reason)
	}
	var replayed bool
	for _, r := range recs.find("authentication failed") {
		replayed = replayed || strings.Contains(r.attrs["reason"], "replayed nonce count")
	}
	if !replayed {
		t.Error("no \"authentication failed\" record naming the replayed nonce count")
	}

	// The client itself may go on with the nonce (RFC 7616 s.3.4).
	auth2, err := client.Authorization("INVITE", uri)
	if err != nil {
		t.Fatal(err)
	}
	second := polFresh(polInvite(t), auth2)
	polAnswered(t, p, second, p.do(&second), spy)
	waitIdle(t, srv)
	if n := len(spy.calls); n != 0 {
		t.Errorf("%d more calls reached the agent", n)
	}
}

// 6. An answer to an old challenge, or to another server's, gets a new
// challenge marked stale=true, not a refusal; answering it works.
func TestPolicyStaleNonce(t *testing.T) {
	t.Parallel()
	const lifetime = 400 * time.Millisecond

	// staleThenIn answers the stale challenge res and checks the call
	// gets in, with no failure counted.
	staleThenIn := func(t *testing.T, srv *sip.Server, recs *logRecords, spy *polSpy, p *rawPeer, r rawReq, res *siplib.Response, why string) {
		t.Helper()
		vals := polChallenges(t, res)
		for _, c := range polChallengeParams(t, vals) {
			if !c.Stale {
				t.Errorf("challenge %s without stale=true", c.Algorithm)
			}
		}
		client := digest.NewClient("alice", polAlicePW)
		stale, err := client.Challenged(vals)
		if err != nil || !stale {
			t.Fatalf("client: stale=%v, %v; want stale", stale, err)
		}
		auth, err := client.Authorization("INVITE", polURI(p, r.User))
		if err != nil {
			t.Fatal(err)
		}
		retry := polRetry(r, auth)
		info := polAnswered(t, p, retry, p.do(&retry), spy)
		if info.Caller != (agent.Caller{Kind: agent.CallerUser, Name: "alice"}) {
			t.Errorf("Info().Caller = %+v", info.Caller)
		}
		var reasons []string
		for _, rec := range recs.find("stale nonce; challenging again") {
			reasons = append(reasons, rec.attrs["reason"])
		}
		if len(reasons) != 1 || reasons[0] != why {
			t.Errorf("stale records with reasons %q, want one %q", reasons, why)
		}
		if n := len(recs.find("authentication failed")); n != 0 {
			t.Errorf("%d \"authentication failed\" records, want none: a stale nonce is not a failure", n)
		}
		waitIdle(t, srv)
	}

	t.Run("expired", func(t *testing.T) {
		t.Parallel()
		spy := newPolSpy()
		srv, recs := polServer(t, map[string]agent.Agent{"rec": spy}, sip.AuthConfig{NonceLifetime: lifetime})
		p := polDial(t, srv, "udp")
		inv := polInvite(t)
		vals := polChallenge(t, p, &inv)
		auth := polAnswer(t, "alice", polAlicePW, vals, "INVITE", polURI(p, inv.User))
		time.Sleep(lifetime + 300*time.Millisecond)
		late := polRetry(inv, auth)
		staleThenIn(t, srv, recs, spy, p, late, p.do(&late), "nonce expired")
	})

	t.Run("another server's nonce", func(t *testing.T) {
		t.Parallel()
		spy := newPolSpy()
		srv, recs := polServer(t, map[string]agent.Agent{"rec": spy}, sip.AuthConfig{})
		other, _ := polServer(t, map[string]agent.Agent{"rec": notCalled(t)}, sip.AuthConfig{})
		elsewhere := polInvite(t)
		vals := polChallenge(t, polDial(t, other, "udp"), &elsewhere)
		p := polDial(t, srv, "udp")
		r := polFresh(polInvite(t), polAnswer(t, "alice", polAlicePW, vals, "INVITE", polURI(p, "rec")))
		staleThenIn(t, srv, recs, spy, p, r, p.do(&r), "nonce not issued by this server")
	})
}

// 7. Without users, anyone who is not a peer gets 403; in drop mode they
// get nothing at all.
func TestPolicyRefusesStrangers(t *testing.T) {
	t.Parallel()
	noPeers := polWithPeers()
	otherPeer := polWithPeers(sip.Peer{Name: "elsewhere", Nets: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	for _, tc := range []struct {
		name string
		opts []serverOpt
		drop bool
	}{
		{"no peers", []serverOpt{noPeers}, false},
		{"peers elsewhere", []serverOpt{otherPeer}, false},
		{"no peers, drop", []serverOpt{noPeers, polWithAuth(sip.AuthConfig{DropUnknown: true})}, true},
		{"peers elsewhere, drop", []serverOpt{otherPeer, polWithAuth(sip.AuthConfig{DropUnknown: true})}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, recs := polStart(t, map[string]agent.Agent{"rec": notCalled(t)}, tc.opts...)
			for _, transport := range []string{"udp", "tcp"} {
				p := polDial(t, srv, transport)
				inv := polInvite(t)
				if tc.drop {
					p.send(p.text(&inv))
					polNoResponse(t, p, time.Second, transport+" INVITE")
					continue
				}
				res := p.do(&inv)
				if res.StatusCode != 403 || res.Reason != "Forbidden" {
					t.Fatalf("%s: %d %s, want 403 Forbidden", transport, res.StatusCode, res.Reason)
				}
				if res.GetHeader("WWW-Authenticate") != nil {
					t.Errorf("%s: 403 with a challenge, and there are no users", transport)
				}
			}
			if n := len(recs.find("refused: not a listed peer and no users are configured")); n != 2 {
				t.Errorf("%d refusal records, want 2", n)
			}
			waitIdle(t, srv)
		})
	}
}

// 7b. In drop mode, users are still challenged, but a wrong password
// gets no answer.
func TestPolicyDropModeWithUsers(t *testing.T) {
	t.Parallel()
	spy := newPolSpy()
	srv, _ := polServer(t, map[string]agent.Agent{"rec": spy}, sip.AuthConfig{DropUnknown: true, MaxFailures: 100})
	p := polDial(t, srv, "udp")
	inv := polInvite(t)
	vals := polChallenge(t, p, &inv)
	bad := polRetry(inv, polAnswer(t, "alice", "guess", vals, "INVITE", polURI(p, inv.User)))
	p.send(p.text(&bad))
	polNoResponse(t, p, time.Second, "wrong password")

	next := polInvite(t)
	vals = polChallenge(t, p, &next)
	good := polRetry(next, polAnswer(t, "alice", polAlicePW, vals, "INVITE", polURI(p, next.User)))
	polAnswered(t, p, good, p.do(&good), spy)
	waitIdle(t, srv)
}

// 7c. A phone that mistypes its password once, in drop mode, gets no
// answer and retransmits its INVITE (RFC 3261 s.17.1.1.2). That is one
// failed attempt, not one per retransmission: the phone must still be
// challenged afterwards.
func TestPolicyDropModeRetransmissionsCountOnce(t *testing.T) {
	t.Parallel()
	srv, _ := polServer(t, map[string]agent.Agent{"rec": notCalled(t)}, sip.AuthConfig{DropUnknown: true, MaxFailures: 3})
	p := polDial(t, srv, "udp")
	inv := polInvite(t)
	vals := polChallenge(t, p, &inv)
	bad := polRetry(inv, polAnswer(t, "alice", "typo", vals, "INVITE", polURI(p, inv.User)))
	text := p.text(&bad)
	for range 3 { // the original and two retransmissions, T1 apart
		p.send(text)
		polNoResponse(t, p, testT1, "wrong password")
	}
	again := polInvite(t)
	p.send(p.text(&again))
	if _, err := p.next(time.Second); err != nil {
		t.Fatalf("no challenge after one mistyped password: %v", err)
	}
}

// 8. A peer is let in by address, without a challenge, and the agent is
// told which peer called.
func TestPolicyPeerByAddress(t *testing.T) {
	t.Parallel()
	spy := newPolSpy()
	trunk := sip.Peer{Name: "trunk-a", Nets: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.0/8")}}
	srv, recs := polStart(t, map[string]agent.Agent{"rec": spy},
		polWithUsers(polUsers()...), polWithPeers(trunk), polWithAuth(sip.AuthConfig{Realm: polRealm}))
	for _, transport := range []string{"udp", "tcp"} {
		p := polDial(t, srv, transport)
		inv := polInvite(t)
		info := polAnswered(t, p, inv, p.do(&inv), spy)
		if want := (agent.Caller{Kind: agent.CallerPeer, Name: "trunk-a"}); info.Caller != want {
			t.Errorf("%s: Info().Caller = %+v, want %+v", transport, info.Caller, want)
		}
	}
	waitIdle(t, srv)
	if n := len(recs.find("authentication failed")); n != 0 {
		t.Errorf("%d \"authentication failed\" records for a peer", n)
	}
}

// 9. Malformed credentials get the same 403 as wrong ones, never a 5xx,
// and leave the server serving.
func TestPolicyMalformedAuthorization(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			spy := newPolSpy()
			srv, recs := polServer(t, map[string]agent.Agent{"rec": spy}, sip.AuthConfig{MaxFailures: 1000})
			p := polDial(t, srv, transport)
			inv := polInvite(t)
			vals := polChallenge(t, p, &inv)
			uri := polURI(p, inv.User)
			md5Only := slices.DeleteFunc(slices.Clone(vals), func(v string) bool { return !strings.Contains(v, "algorithm=MD5") })
			good := polAnswer(t, "alice", polAlicePW, vals, "INVITE", uri)
			goodMD5 := polAnswer(t, "alice", polAlicePW, md5Only, "INVITE", uri)
			nonce := polChallengeParams(t, vals)[0].Nonce
			evil := make([]string, len(vals))
			for i, v := range vals {
				evil[i] = strings.Replace(v, `realm="`+polRealm+`"`, `realm="evil.example"`, 1)
			}
			mustHave := func(s, sub string) string {
				if !strings.Contains(s, sub) {
					t.Fatalf("%q lacks %q", s, sub)
				}
				return s
			}
			for _, tc := range []struct{ name, auth string }{
				{"garbage", "garbage"},
				{"scheme alone", "Digest"},
				{"scheme and space", "Digest  "},
				{"Basic", "Basic YWxpY2U6YWxpY2UtY29ycmVjdC1ob3JzZQ=="},
				{"unterminated quote", `Digest username="alice", realm="` + polRealm + `", nonce="` + nonce},
				{"unterminated at end", mustHave(good, `"`)[:len(good)-1] + `, opaque="x`},
				{"10 KB nonce", `Digest username="alice", realm="` + polRealm + `", nonce="` + strings.Repeat("n", 10240) +
					`", uri="` + uri + `", response="` + strings.Repeat("0", 64) + `", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="c"`},
				{"10 KB username", strings.Replace(good, `username="alice"`, `username="`+strings.Repeat("a", 10240)+`"`, 1)},
				{"wrong realm", polAnswer(t, "alice", polAlicePW, evil, "INVITE", uri)},
				{"MD5-sess", strings.Replace(mustHave(goodMD5, "algorithm=MD5"), "algorithm=MD5", "algorithm=MD5-sess", 1)},
				{"qop=auth-int", strings.Replace(mustHave(good, "qop=auth"), "qop=auth", "qop=auth-int", 1)},
				{"unknown algorithm", strings.Replace(mustHave(good, "algorithm=SHA-256"), "algorithm=SHA-256", "algorithm=SHA-1", 1)},
				{"duplicate response", good + `, response="` + strings.Repeat("0", 64) + `"`},
				{"duplicate realm", good + `, realm="` + polRealm + `"`},
				{"nc zero", strings.Replace(mustHave(good, "nc=00000001"), "nc=00000001", "nc=00000000", 1)},
				{"nc not hex", strings.Replace(good, "nc=00000001", "nc=0000000g", 1)},
				{"no cnonce", strings.Replace(good, "cnonce=", "xcnonce=", 1)},
				{"no response", strings.Replace(good, "response=", "xresponse=", 1)},
				{"short response", good[:strings.Index(good, `response="`)+len(`response="`)] + `abc"`},
				{"empty username", strings.Replace(good, `username="alice"`, `username=""`, 1)},
				{"high bytes", strings.Replace(good, `username="alice"`, "username=\"al\xffice\xc3\x28\"", 1)},
				{"quoted-pair at end", `Digest username="alice\`},
				{"no equals", `Digest username "alice"`},
				{"trailing comma", good + ","},
			} {
				r := polFresh(inv, tc.auth)
				res := p.do(&r)
				if res.StatusCode != 403 {
					t.Errorf("%s: %d %s, want 403", tc.name, res.StatusCode, res.Reason)
				}
			}
			// The server is fine, and alice still gets in.
			again := polInvite(t)
			vals = polChallenge(t, p, &again)
			ok := polRetry(again, polAnswer(t, "alice", polAlicePW, vals, "INVITE", polURI(p, again.User)))
			info := polAnswered(t, p, ok, p.do(&ok), spy)
			if info.Caller != (agent.Caller{Kind: agent.CallerUser, Name: "alice"}) {
				t.Errorf("Info().Caller = %+v", info.Caller)
			}
			waitIdle(t, srv)
			for _, r := range recs.atLeast(slog.LevelWarn) {
				t.Errorf("unexpected record at %v: %s %v", r.level, r.msg, r.attrs)
			}
		})
	}
}

// 10. The registrar serves configured users: REGISTER is challenged,
// accepted with credentials, refused for another user's address, and
// advertised in Allow only when there are users.
func TestPolicyRegistrar(t *testing.T) {
	t.Parallel()
	spy := newPolSpy()
	srv, _ := polServer(t, map[string]agent.Agent{"rec": spy}, sip.AuthConfig{})
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			p := polDial(t, srv, transport)
			reg := rawReq{Method: "REGISTER", User: "alice", Headers: []string{"Expires: 120"}}
			vals := polChallenge(t, p, &reg)
			uri := polURI(p, "alice")
			client := digest.NewClient("alice", polAlicePW)
			if _, err := client.Challenged(vals); err != nil {
				t.Fatal(err)
			}
			auth, err := client.Authorization("REGISTER", uri)
			if err != nil {
				t.Fatal(err)
			}
			withAuth := polRetry(reg, auth)
			res := p.do(&withAuth)
			if res.StatusCode != 200 {
				t.Fatalf("REGISTER with credentials: %d %s, want 200", res.StatusCode, res.Reason)
			}
			var listed []string
			found := false
			for _, h := range res.GetHeaders("Contact") {
				listed = append(listed, h.Value())
				c, ok := h.(*siplib.ContactHeader)
				if !ok {
					t.Fatalf("Contact %q not parsed", h.Value())
				}
				exp, _ := c.Params.Get("expires")
				if c.Address.User == "raw" && c.Address.Host == p.local.Addr().String() && c.Address.Port == int(p.local.Port()) {
					found = true
					if exp != "120" {
						t.Errorf("Contact %q: expires %q, want 120", h.Value(), exp)
					}
				}
			}
			if !found {
				t.Errorf("200 lists contacts %q, want sip:raw@%s with expires", listed, p.local)
			}

			// alice may not register bob's address of record.
			auth, err = client.Authorization("REGISTER", polURI(p, "bob"))
			if err != nil {
				t.Fatal(err)
			}
			hijack := polFresh(rawReq{Method: "REGISTER", User: "bob", Headers: []string{"Expires: 120"}}, auth)
			if res := p.do(&hijack); res.StatusCode != 403 {
				t.Fatalf("REGISTER of bob's AOR as alice: %d %s, want 403", res.StatusCode, res.Reason)
			}

			// A wrong password is refused.
			bad := polFresh(reg, polAnswer(t, "alice", "guess", vals, "REGISTER", uri))
			if res := p.do(&bad); res.StatusCode != 403 {
				t.Fatalf("REGISTER with a wrong password: %d %s, want 403", res.StatusCode, res.Reason)
			}

			// Registering is not authorization: a call is still challenged.
			inv := polInvite(t)
			polChallenge(t, p, &inv)

			opt := rawReq{Method: "OPTIONS"}
			if allow := header(p.do(&opt), "Allow"); !strings.Contains(allow, "REGISTER") {
				t.Errorf("Allow %q lacks REGISTER, and there are users", allow)
			}
		})
	}
	waitIdle(t, srv)

	// Without users there is no registrar.
	plain, _ := polStart(t, map[string]agent.Agent{"rec": notCalled(t)})
	opt := rawReq{Method: "OPTIONS"}
	res := polDial(t, plain, "udp").do(&opt)
	if allow := header(res, "Allow"); res.StatusCode != 200 || strings.Contains(allow, "REGISTER") {
		t.Errorf("without users: OPTIONS %d, Allow %q; want 200 without REGISTER", res.StatusCode, allow)
	}
}
