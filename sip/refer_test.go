package sip_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/sip"
)

// referAgent transfers every call it gets to target with REFER, reports
// the outcome and hangs up.
func referAgent(target string, results chan<- sip.ReferResult) agent.Agent {
	return agent.AgentFunc(func(ctx context.Context, call agent.Call) error {
		c, ok := call.(*sip.Call)
		if !ok {
			panic("not a *sip.Call")
		}
		res, err := c.Refer(ctx, target)
		if err != nil {
			return err
		}
		results <- res
		return nil // our leg ends with BYE, transferred or not
	})
}

// baresip, asked by REFER to call another URI (here another agent of the
// same server), does; sipagent follows the NOTIFYs to the target's 200.
func TestReferBaresipFollows(t *testing.T) {
	ctx := baresipContext(t)
	results := make(chan sip.ReferResult, 1)
	target := newRecorder()
	srv := startServer(t, map[string]agent.Agent{"target": target})
	targetURI := "sip:target@" + srv.Addr("udp").String()
	srv2 := startServer(t, map[string]agent.Agent{"xfer": referAgent(targetURI, results)})
	ph := startBaresip(t, ctx, phoneConfig{
		Dial:   dialURI(srv2, "xfer"),
		Calls:  2,
		Codecs: "PCMU",
		Mic:    make([]int16, samples(5*time.Second)),
	})
	var res sip.ReferResult
	select {
	case res = <-results:
	case <-ctx.Done():
		t.Fatalf("no transfer outcome:\n%s", ph.output())
	}
	if res.Status != "completed" || res.ReferCode != 202 || res.NotifyCode != 200 {
		t.Errorf("transfer %+v, want completed after 202 and a 200 sipfrag", res)
	}
	target.waitStarted(t)
	info := target.info
	// The caller itself placed the new call (baresip does not copy
	// Referred-By into it, which RFC 3892 only recommends).
	if !strings.HasPrefix(info.From, "sip:test@") {
		t.Errorf("the target's call is from %q, want baresip's account", info.From)
	}
	waitIdle(t, srv2) // the transferring leg is gone
	ph.quit(t, ctx)
	target.wait(t)
	waitIdle(t, srv)
}

// A caller that refuses REFER keeps its call with the agent, which learns
// the refusal (TwiML's ReferCallStatus failed, ReferSipResponseCode 405).
func TestReferRefused(t *testing.T) {
	results := make(chan sip.ReferResult, 1)
	srv := startServer(t, map[string]agent.Agent{"xfer": referAgent("sip:sales@example.com", results)})
	if out, err := runSipp(t, srv, sippRun{Scenario: "uac_refuse_refer.xml", User: "xfer"}); err != nil {
		t.Fatalf("sipp: %v\n%s", err, out)
	}
	res := <-results
	if res.Status != "failed" || res.ReferCode != 405 || res.NotifyCode != 0 {
		t.Errorf("transfer %+v, want failed with the REFER's 405", res)
	}
	waitIdle(t, srv)
}
