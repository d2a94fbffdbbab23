package sip_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
)

// A PBX moves its call with REFER: sipagent calls the target, runs the
// agent there, reports 100 then 200 in NOTIFYs, and ends the old call.
func TestIncomingReferMovesTheCall(t *testing.T) {
	target := newRecorder()
	tsrv := startServer(t, map[string]agent.Agent{"sales": target})
	targetURI := "sip:sales@" + tsrv.Addr("udp").String()
	var served atomic.Int32
	bot := agent.AgentFunc(func(ctx context.Context, call agent.Call) error {
		served.Add(1)
		<-ctx.Done()
		return nil
	})
	srv := startServer(t, map[string]agent.Agent{"bot": bot}, withTransfer(t, "sip:sales@127.0.0.1"))
	if out, err := runSipp(t, srv, sippRun{Scenario: "uac_refer_in.xml", User: "bot",
		Extra: []string{"-key", "target", targetURI}}); err != nil {
		t.Fatalf("pbx: %v\n%s", err, out)
	}
	target.waitStarted(t) // the new call reached the target
	target.mu.Lock()
	from := target.info.From
	target.mu.Unlock()
	if !strings.HasPrefix(from, "sip:sipagent@") {
		t.Errorf("the target's call is from %q, want sipagent", from)
	}
	if !eventually(5*time.Second, func() bool { return served.Load() == 2 }) {
		t.Errorf("the agent served %d calls, want 2 (the old call and the moved one)", served.Load())
	}
	if n := srv.ActiveCalls(); n != 1 {
		t.Errorf("%d calls active, want the moved one alone", n)
	}
	_ = srv.Close() // ends the moved call with BYE
	target.wait(t)
	waitIdle(t, tsrv)
}

// A REFER to a target outside transfer.allow is refused with 403, and the
// call goes on.
func TestIncomingReferOutsideAllowList(t *testing.T) {
	srv := startServer(t, map[string]agent.Agent{"bot": newRecorder()}, withTransfer(t, "sip:*@pbx.example.com"))
	p := dialRaw(t, srv, "udp")
	c := p.invite("bot", freeEvenPortPair(t))
	c.ack()
	refer := rawReq{Method: "REFER", User: "bot", CallID: c.inv.CallID, FromTag: c.inv.FromTag, ToTag: c.ok.To().Params.GetOr("tag", ""), CSeq: 2,
		Headers: []string{"Refer-To: <sip:premium@198.51.100.7>"}}
	if res := p.do(&refer); res.StatusCode != 403 {
		t.Errorf("REFER outside the allow-list: %d, want 403", res.StatusCode)
	}
	if res := c.bye(); res.StatusCode != 200 {
		t.Errorf("BYE after the refused REFER: %d", res.StatusCode)
	}
	waitIdle(t, srv)
}
