package sip_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/media"
	"github.com/sipagent/sipagent/sip"
	"github.com/sipagent/sipagent/sip/digest"
	"github.com/sipagent/sipagent/sip/siptest"
)

// baresip as a softphone with credentials: it calls sipagent answering
// the digest challenge, registers to sipagent's registrar, and is called
// by sipagent through that registration.

const alicePassword = "alice-s3cret"

// withAlice replaces the loopback peer with one digest user, so that
// every call must authenticate.
func withAlice() serverOpt {
	return func(c *sip.Config) {
		c.Peers = nil
		c.Users = []sip.User{{Username: "alice", Secret: digest.Secret{Password: alicePassword}}}
	}
}

// A softphone that is not a trusted peer is challenged, answers with
// its password, and its call and audio reach the agent, which learns
// who called and over what: over UDP, and over TLS to sipagent's TLS
// listener (baresip trusting the test CA).
func TestBaresipCallsWithDigest(t *testing.T) {
	for _, transport := range []string{"udp", "tls"} {
		t.Run(transport, func(t *testing.T) {
			ctx := baresipContext(t)
			rec := newRecorder()
			opts := []serverOpt{withAlice()}
			pc := phoneConfig{
				Account: "regint=0;auth_pass=" + alicePassword,
				Codecs:  "PCMU",
				Mic:     testSignal(),
			}
			if transport == "tls" {
				pki := siptest.NewPKI(t, []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)})
				opts = append(opts, withTLS(pki))
				pc.CAFile = pki.CAFile
			}
			srv := startServer(t, map[string]agent.Agent{"rec": rec}, opts...)
			addr := srv.Addr(transport).String()
			pc.Dial = "sip:rec@" + addr // baresip adds the account's transport
			pc.AOR = "sip:alice@" + addr
			if transport == "tls" {
				pc.AOR += ";transport=tls"
			}
			ph := startBaresip(t, ctx, pc)
			rec.waitStarted(t)
			ph.mustWait(t, ctx, "terminated") // the microphone file ended
			ph.quit(t, ctx)
			rec.wait(t)
			waitIdle(t, srv)

			rec.mu.Lock()
			info, got := rec.info, rec.pcm
			rec.mu.Unlock()
			if info.Caller != (agent.Caller{Kind: agent.CallerUser, Name: "alice"}) || info.Transport != transport {
				t.Errorf("caller %+v over %q, want user alice over %s", info.Caller, info.Transport, transport)
			}
			piece := g711(media.PCMU, pc.Mic)[samples(200*time.Millisecond):samples(700*time.Millisecond)]
			corr, _ := bestCorrelation(got, piece)
			t.Logf("agent heard %.2f s over %s; correlation with baresip's microphone %.3f", float64(len(got))/media.SampleRate, transport, corr)
			if corr < 0.9 {
				t.Errorf("the agent did not hear baresip's microphone: correlation %.3f", corr)
			}
		})
	}
}

// A softphone registers to sipagent with digest; sipagent keeps its
// contact and calls it by user name; it answers and hears the agent.
func TestBaresipRegistersAndIsCalled(t *testing.T) {
	ctx := baresipContext(t)
	srv := startServer(t, nil, withAlice())
	ph := startBaresip(t, ctx, phoneConfig{
		AOR:     "sip:alice@" + srv.Addr("udp").String(),
		Account: "regint=60;auth_pass=" + alicePassword + ";answermode=auto",
		Codecs:  "PCMU",
		Mic:     make([]int16, samples(6*time.Second)),
	})
	waitRegistered(t, srv, ph)
	if transport := playToAlice(t, ctx, srv, ph); transport != "udp" {
		t.Errorf("the call went over %q, want udp", transport)
	}
	player := agent.AgentFunc(func(context.Context, agent.Call) error { return nil })
	dialCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := srv.Dial(dialCtx, "bob", player); !errors.Is(err, sip.ErrNotRegistered) {
		t.Errorf("Dial to a user with no contact: %v, want ErrNotRegistered", err)
	}
}

// playToAlice calls alice, registered from ph, with an agent that plays
// the test signal and hangs up; it checks that baresip answered and
// heard the signal, quits baresip, and returns the call's transport.
func playToAlice(t *testing.T, ctx context.Context, srv *sip.Server, ph *phone) string {
	t.Helper()
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
		t.Fatalf("Dial: %v\n%s", err, ph.output())
	}
	ph.mustWait(t, ctx, "Call established")
	var r result
	select {
	case r = <-played:
		if r.err != nil {
			t.Fatalf("playing to baresip: %v", r.err)
		}
	case <-ctx.Done():
		t.Fatal("the agent did not finish playing")
	}
	ph.mustWait(t, ctx, "terminated") // our BYE ended it on baresip's side
	waitIdle(t, srv)
	ph.quit(t, ctx)

	got := ph.heard(t)
	piece := g711(media.PCMU, signal)[samples(200*time.Millisecond):samples(700*time.Millisecond)]
	corr, _ := bestCorrelation(got, piece)
	t.Logf("baresip heard %.2f s over %s; correlation with the agent's audio %.3f", float64(len(got))/media.SampleRate, r.transport, corr)
	if corr < 0.9 {
		t.Errorf("baresip did not hear the agent: correlation %.3f", corr)
	}
	return r.transport
}

// waitRegistered waits until sipagent's registrar holds ph's contact.
func waitRegistered(t *testing.T, srv *sip.Server, ph *phone) {
	t.Helper()
	if !eventually(10*time.Second, func() bool { users, _ := srv.RegistrarCount(); return users == 1 }) {
		t.Fatalf("baresip did not register:\n%s", ph.output())
	}
}
