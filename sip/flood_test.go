package sip_test

import (
	"strings"
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
	const flood = 2000
	counted := make(chan [2]int)
	go func() {
		var challenged, other int
		for {
			msg, err := p.next(time.Second)
			if err != nil {
				break
			}
			if res, ok := msg.(*siplib.Response); ok && res.StatusCode == 401 {
				challenged++
			} else {
				other++
			}
		}
		counted <- [2]int{challenged, other}
	}()
	start := time.Now()
	for i := 0; i < flood; i++ {
		p.send(p.text(&rawReq{Method: "REGISTER", User: "alice", Headers: []string{"Expires: 60"}}))
		if i%50 == 49 {
			time.Sleep(time.Millisecond) // ~40000/s: more than the kernel buffers hold at once otherwise
		}
	}
	sent := time.Since(start)
	n := <-counted
	t.Logf("%d REGISTERs in %v, %d 401 challenges back, %d other messages", flood, sent.Round(time.Millisecond), n[0], n[1])
	// Loopback UDP may still drop a little of a burst in the kernel; the
	// rest must be challenged, and nothing else sent.
	if n[0] < flood*3/4 || n[1] != 0 {
		t.Errorf("%d of %d REGISTERs challenged, %d other answers", n[0], flood, n[1])
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
