package sip_test

import (
	"context"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/media"
	"github.com/sipagent/sipagent/sip"
)

// withTLS adds a TLS listener on loopback serving pki's certificate, and
// trusts pki's CA for connections sipagent opens.
func withTLS(pki *testPKI) serverOpt {
	return func(c *sip.Config) {
		c.Listeners = append(c.Listeners, sip.Listener{Transport: "tls", Addr: "127.0.0.1:0"})
		c.TLS = &tls.Config{Certificates: []tls.Certificate{pki.Cert}, RootCAs: pki.CAPool}
	}
}

// baresip registers to sipagent over TLS with digest, and sipagent
// calls it back over that connection: the agent's audio reaches it.
func TestBaresipRegistersOverTLS(t *testing.T) {
	ctx := baresipContext(t)
	pki := newTestPKI(t, []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	srv := startServer(t, nil, withAlice(), withTLS(pki))
	ph := startBaresip(t, ctx, phoneConfig{
		AOR:     "sip:alice@" + srv.Addr("tls").String() + ";transport=tls",
		Account: "regint=60;auth_pass=" + alicePassword + ";answermode=auto",
		Codecs:  "PCMU",
		Mic:     make([]int16, samples(6*time.Second)),
		CAFile:  pki.CAFile,
	})
	waitRegistered(t, srv, ph)

	signal := testSignal()
	type result struct {
		transport string
		err       error
	}
	played := make(chan result, 1)
	player := agent.AgentFunc(func(ctx context.Context, call agent.Call) error {
		err := agent.Play(ctx, call, signal)
		played <- result{call.Info().Transport, err}
		return err // returning hangs up: sipagent sends BYE
	})
	dialCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := srv.Dial(dialCtx, "alice", player); err != nil {
		t.Fatalf("Dial over TLS: %v\n%s", err, ph.output())
	}
	ph.mustWait(t, ctx, "Call established")
	select {
	case r := <-played:
		if r.err != nil {
			t.Fatalf("playing to baresip: %v", r.err)
		}
		if r.transport != "tls" {
			t.Errorf("the call to the TLS registration went over %q", r.transport)
		}
	case <-ctx.Done():
		t.Fatal("the agent did not finish playing")
	}
	ph.mustWait(t, ctx, "terminated") // our BYE, over TLS too
	waitIdle(t, srv)
	ph.quit(t, ctx)

	got := ph.heard(t)
	piece := g711(media.PCMU, signal)[samples(200*time.Millisecond):samples(700*time.Millisecond)]
	corr, _ := bestCorrelation(got, piece)
	t.Logf("baresip heard %.2f s over a TLS call; correlation %.3f", float64(len(got))/media.SampleRate, corr)
	if corr < 0.9 {
		t.Errorf("baresip did not hear the agent: correlation %.3f", corr)
	}
}

// baresip calls sipagent's TLS listener, answers the digest challenge,
// and its voice reaches the agent.
func TestBaresipCallsOverTLS(t *testing.T) {
	ctx := baresipContext(t)
	pki := newTestPKI(t, []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	rec := newRecorder()
	srv := startServer(t, map[string]agent.Agent{"rec": rec}, withAlice(), withTLS(pki))
	tlsAddr := srv.Addr("tls").String()
	signal := testSignal()
	ph := startBaresip(t, ctx, phoneConfig{
		Dial:    "sip:rec@" + tlsAddr, // baresip adds the account's transport
		AOR:     "sip:alice@" + tlsAddr + ";transport=tls",
		Account: "regint=0;auth_pass=" + alicePassword,
		Codecs:  "PCMU",
		Mic:     signal,
		CAFile:  pki.CAFile,
	})
	rec.waitStarted(t)
	ph.mustWait(t, ctx, "terminated") // the microphone file ended
	ph.quit(t, ctx)
	rec.wait(t)
	waitIdle(t, srv)

	rec.mu.Lock()
	info, got := rec.info, rec.pcm
	rec.mu.Unlock()
	if info.Caller != (agent.Caller{Kind: agent.CallerUser, Name: "alice"}) || info.Transport != "tls" {
		t.Errorf("caller %+v over %q, want user alice over tls", info.Caller, info.Transport)
	}
	piece := g711(media.PCMU, signal)[samples(200*time.Millisecond):samples(700*time.Millisecond)]
	corr, _ := bestCorrelation(got, piece)
	t.Logf("agent heard %.2f s over TLS; correlation %.3f", float64(len(got))/media.SampleRate, corr)
	if corr < 0.9 {
		t.Errorf("the agent did not hear baresip: correlation %.3f", corr)
	}
}
