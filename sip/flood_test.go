package sip_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	siplib "github.com/emiago/sipgo/sip"
	"github.com/sipagent/sipagent/sip/digest"
)

// A REGISTER flood from one source is answered, challenge by challenge,
// without state on the server, and a real user registering from the same
// address right after it still gets in.
func TestRegisterFloodThenLegitimateUser(t *testing.T) {
	srv := startServer(t, nil, withAlice())
	p := dialRaw(t, srv, "udp")
	// The flood is sent as fast as the server answers, with up to 50
	// requests outstanding: a socket's receive buffer (212 KB by default)
	// is charged about 2 KB per small datagram, so more than about 100
	// answers in flight overflow the test's own socket, which would
	// measure the machine, not sipagent.
	const flood, window = 2000, 50
	var challenged, other atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for challenged.Load()+other.Load() < flood {
			msg, err := p.next(5 * time.Second)
			if err != nil {
				return
			}
			if res, ok := msg.(*siplib.Response); ok && res.StatusCode == 401 {
				challenged.Add(1)
			} else {
				other.Add(1)
			}
		}
	}()
	start := time.Now()
	for i := 0; i < flood; i++ {
		if !eventually(5*time.Second, func() bool { return int64(i)-challenged.Load()-other.Load() < window }) {
			t.Fatalf("the server stopped answering after %d of %d REGISTERs", challenged.Load()+other.Load(), i)
		}
		p.send(p.text(&rawReq{Method: "REGISTER", User: "alice", Headers: []string{"Expires: 60"}}))
	}
	<-done
	t.Logf("%d REGISTERs answered in %v: %d 401 challenges, %d other messages",
		flood, time.Since(start).Round(time.Millisecond), challenged.Load(), other.Load())
	if challenged.Load() < flood*99/100 || other.Load() != 0 {
		t.Errorf("%d of %d REGISTERs challenged, %d other answers", challenged.Load(), flood, other.Load())
	}

	reg := &rawReq{Method: "REGISTER", User: "alice", Headers: []string{"Expires: 60"}}
	res := p.do(reg)
	if res.StatusCode != 401 {
		t.Fatalf("REGISTER after the flood: %d", res.StatusCode)
	}
	cl := digest.NewClient("alice", alicePassword)
	if _, err := cl.Challenged(headerValues(res, "WWW-Authenticate")); err != nil {
		t.Fatal(err)
	}
	auth, err := cl.Authorization("REGISTER", "sip:alice@"+p.server.String())
	if err != nil {
		t.Fatal(err)
	}
	reg2 := &rawReq{Method: "REGISTER", User: "alice", CallID: reg.CallID, FromTag: reg.FromTag, CSeq: 2,
		Headers: []string{"Expires: 60", "Authorization: " + auth}}
	if res := p.do(reg2); res.StatusCode != 200 {
		t.Fatalf("authenticated REGISTER after the flood: %d %s", res.StatusCode, res.Reason)
	}
	if users, bindings := srv.RegistrarCount(); users != 1 || bindings != 1 {
		t.Errorf("registrar holds %d users, %d contacts; want 1, 1", users, bindings)
	}
}

func headerValues(res *siplib.Response, name string) []string {
	var out []string
	for _, h := range res.GetHeaders(name) {
		out = append(out, strings.TrimSpace(h.Value()))
	}
	return out
}
