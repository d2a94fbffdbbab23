package sip_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/sip"
)

// Guesses that keep one Call-ID and CSeq and change only the branch and
// the digest response are still guesses: each counts, and the source is
// blocked, the right password included.
func TestPolicyGuessesOnOneCSeqAreCounted(t *testing.T) {
	t.Parallel()
	srv, _ := polServer(t, map[string]agent.Agent{"rec": notCalled(t)}, sip.AuthConfig{MaxFailures: 3})
	p := polDial(t, srv, "udp")
	inv := polInvite(t)
	vals := polChallenge(t, p, &inv)
	uri := polURI(p, inv.User)
	for _, guess := range []string{"a", "b", "c", "d"} {
		r := polRetry(inv, polAnswer(t, "alice", guess, vals, "INVITE", uri))
		r.CSeq = inv.CSeq // the same request name for every guess
		if res := p.do(&r); res.StatusCode != 403 {
			t.Fatalf("guess %q: %d", guess, res.StatusCode)
		}
	}
	right := polRetry(inv, polAnswer(t, "alice", polAlicePW, vals, "INVITE", uri))
	right.CSeq = inv.CSeq
	if res := p.do(&right); res.StatusCode != 403 {
		t.Fatalf("right password after 4 guesses on one CSeq: %d, want 403 (blocked)", res.StatusCode)
	}
	waitIdle(t, srv)
}

// One user name guessed from many addresses is blocked by name: a
// guesser with many addresses gets a bounded number of tries.
func TestPolicyUserNameBlockedAcrossSources(t *testing.T) {
	t.Parallel()
	// MaxFailures 1 per address: every address is blocked after one
	// guess, and the name after 4.
	srv, recs := polServer(t, map[string]agent.Agent{"rec": notCalled(t)}, sip.AuthConfig{MaxFailures: 1})
	for i := range 4 {
		p := polDialFrom(t, srv, i+2) // 127.0.0.2, .3, ...
		inv := polInvite(t)
		vals := polChallenge(t, p, &inv)
		r := polRetry(inv, polAnswer(t, "alice", "guess", vals, "INVITE", polURI(p, inv.User)))
		if res := p.do(&r); res.StatusCode != 403 {
			t.Fatalf("guess from address %d: %d", i, res.StatusCode)
		}
	}
	if len(recs.find("blocking user name after repeated authentication failures from several addresses")) != 1 {
		t.Fatal("the user name was not blocked")
	}
	p := polDialFrom(t, srv, 9)
	inv := polInvite(t)
	vals := polChallenge(t, p, &inv)
	r := polRetry(inv, polAnswer(t, "alice", polAlicePW, vals, "INVITE", polURI(p, inv.User)))
	if res := p.do(&r); res.StatusCode != 403 {
		t.Fatalf("right password for a blocked name from a fresh address: %d, want 403", res.StatusCode)
	}
	waitIdle(t, srv)
}

// Shutdown does not wait for a call still ringing out: it is cancelled.
func TestShutdownCancelsRingingDial(t *testing.T) {
	srv := startServer(t, nil, withAlice())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// A phone that registers and never answers.
	ph := startBaresip(t, ctx, phoneConfig{
		AOR:     "sip:alice@" + srv.Addr("udp").String(),
		Account: "regint=60;auth_pass=" + alicePassword,
		Mic:     make([]int16, samples(time.Second)),
	})
	waitRegistered(t, srv, ph)
	dialed := make(chan error, 1)
	go func() {
		_, err := srv.Dial(ctx, "alice", notCalled(t))
		dialed <- err
	}()
	ph.mustWait(t, ctx, "Incoming call")
	start := time.Now()
	drain, cancelDrain := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancelDrain()
	if err := srv.Shutdown(drain); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	err := <-dialed
	var de *sip.DialError
	if !errors.As(err, &de) {
		t.Errorf("Dial returned %v, want a DialError", err)
	}
	t.Logf("Shutdown took %v with a call ringing", took)
	if took > 5*time.Second {
		t.Errorf("Shutdown waited %v for a ringing call", took)
	}
}

// polDialFrom is a raw UDP peer on 127.0.0.n, another source address.
func polDialFrom(t *testing.T, srv *sip.Server, n int) *rawPeer {
	t.Helper()
	server := srv.Addr("udp")
	conn, err := net.DialUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, byte(n))}, net.UDPAddrFromAddrPort(server))
	if err != nil {
		t.Fatalf("127.0.0.%d: %v", n, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	local, err := netip.ParseAddrPort(conn.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	return &rawPeer{t: t, transport: "udp", conn: conn, local: local, server: server}
}
