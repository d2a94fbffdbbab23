package sip_test

import (
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/flow"
	"github.com/sipagent/sipagent/sip"
	"github.com/sipagent/sipagent/transfer"
)

// forwardingDemo is the demo menu forwarding option 2 to target in mode.
func forwardingDemo(t *testing.T, target, mode string) agent.Agent {
	t.Helper()
	f, err := flow.Demo()
	if err != nil {
		t.Fatal(err)
	}
	a, err := flow.New(f, flow.WithLogger(testLogger(t)), flow.WithTransferTarget(target), flow.WithTransferMode(mode))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// withTransfer gives the server a transfer service allowing allow; it
// logs to the server's logger.
func withTransfer(t *testing.T, allow ...string) serverOpt {
	policy, err := transfer.NewPolicy(allow)
	if err != nil {
		t.Fatal(err)
	}
	return func(c *sip.Config) { c.Transferrer = transfer.NewService(policy, transfer.ModeAuto, c.Logger) }
}

// A caller presses 2 in the demo menu and is handed over by REFER to
// the configured target (here another agent, reached by the caller
// itself); sipagent's leg then ends.
func TestForwardDemoOption2ByRefer(t *testing.T) {
	ctx := baresipContext(t)
	target := newRecorder()
	tsrv := startServer(t, map[string]agent.Agent{"sales": target})
	targetURI := "sip:sales@" + tsrv.Addr("udp").String()
	srv := startServer(t, map[string]agent.Agent{"demo": forwardingDemo(t, targetURI, "refer")},
		withTransfer(t, "sip:sales@127.0.0.1"))
	ph := startBaresip(t, ctx, phoneConfig{
		Dial:  dialURI(srv, "demo"),
		Calls: 2,
		Mic:   make([]int16, samples(8*time.Second)),
	})
	ph.mustWait(t, ctx, "incoming rtp for 'audio' established")
	ph.typeKeys(t, "2")
	target.waitStarted(t)
	waitIdle(t, srv) // the demo's leg ended after the transfer
	ph.quit(t, ctx)
	target.wait(t)
	waitIdle(t, tsrv)
}

// A target outside transfer.allow is refused before anything is sent:
// the demo says forwarding is not available and the caller stays.
func TestForwardRefusedOutsideAllowList(t *testing.T) {
	ctx := baresipContext(t)
	target := newRecorder()
	tsrv := startServer(t, map[string]agent.Agent{"sales": target})
	logger, recs := captureLogs(t)
	srv := startServer(t, map[string]agent.Agent{"demo": forwardingDemo(t, "sip:sales@"+tsrv.Addr("udp").String(), "refer")},
		withLogger(logger), withTransfer(t, "sip:*@pbx.example.com"))
	ph := startBaresip(t, ctx, phoneConfig{
		Dial: dialURI(srv, "demo"),
		Mic:  make([]int16, samples(6*time.Second)),
	})
	ph.mustWait(t, ctx, "incoming rtp for 'audio' established")
	ph.typeKeys(t, "2")
	if !eventually(5*time.Second, func() bool { return len(recs.find("transfer refused: target not in transfer.allow")) == 1 }) {
		t.Fatal("no refusal logged")
	}
	select {
	case <-target.started:
		t.Error("the refused target was called")
	default:
	}
	if srv.ActiveCalls() != 1 {
		t.Errorf("%d calls active after a refused transfer, want the caller's", srv.ActiveCalls())
	}
	ph.quit(t, ctx)
	waitIdle(t, srv)
}
