package sip_test

import (
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/media"
	"github.com/sipagent/sipagent/sip"
	"github.com/sipagent/sipagent/sip/digest"
)

// Forwarding to client:alice reaches the softphone registered to
// sipagent as alice: a caller's voice crosses the bridge to her. In auto
// mode the call is bridged at once (the caller could not reach alice's
// phone with a REFER); a user with no contact is "no-answer", 480.
func TestForwardToRegisteredUser(t *testing.T) {
	ctx := baresipContext(t)
	results := make(chan agent.TransferResult, 2)
	srv := startServer(t, map[string]agent.Agent{
		"alice": transferAgent("client:alice", "auto", results),
		"bob":   transferAgent("client:bob", "auto", results),
	}, func(c *sip.Config) {
		// The caller comes from the loopback peer; alice authenticates.
		c.Users = []sip.User{{Username: "alice", Secret: digest.Secret{Password: alicePassword}}}
	}, withTransfer(t)) // an empty allow-list: registered users need none

	out, err := runSipp(t, srv, sippRun{Scenario: "uac_wait_bye.xml", User: "bob"})
	if err != nil {
		t.Fatalf("caller for bob: %v\n%s", err, out)
	}
	if res := <-results; res.Status != "no-answer" || res.SIPCode != 480 {
		t.Errorf("forward to an unregistered user: %+v, want no-answer 480", res)
	}

	alice := startBaresip(t, ctx, phoneConfig{
		AOR:     "sip:alice@" + srv.Addr("udp").String(),
		Account: "regint=60;auth_pass=" + alicePassword + ";answermode=auto",
		Codecs:  "PCMU",
		Mic:     make([]int16, samples(10*time.Second)),
	})
	waitRegistered(t, srv, alice)

	signal := testSignal()
	mic := append(make([]int16, samples(time.Second)), signal...)
	mic = append(mic, make([]int16, samples(500*time.Millisecond))...)
	caller := startBaresip(t, ctx, phoneConfig{Dial: dialURI(srv, "alice"), Codecs: "PCMU", Mic: mic})
	alice.mustWait(t, ctx, "Call established")
	caller.mustWait(t, ctx, "terminated") // its microphone ended: it hung up
	alice.mustWait(t, ctx, "terminated")  // and the bridge ended her leg
	select {
	case res := <-results:
		if res.Status != "completed" || res.SIPCode != 200 {
			t.Errorf("forward to alice: %+v, want completed 200", res)
		}
	case <-ctx.Done():
		t.Fatal("no transfer result")
	}
	waitIdle(t, srv)
	caller.quit(t, ctx)
	alice.quit(t, ctx)
	got := alice.heard(t)
	piece := g711(media.PCMU, signal)[samples(200*time.Millisecond):samples(700*time.Millisecond)]
	corr, lag := bestCorrelation(got, piece)
	t.Logf("alice heard the caller through the bridge: correlation %.3f at %.3f s", corr, float64(lag)/media.SampleRate)
	if corr < 0.9 {
		t.Errorf("alice did not hear the caller: correlation %.3f", corr)
	}
}
