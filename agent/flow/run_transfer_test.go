package flow

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/agenttest"
)

const transferFlow = `start: xfer
steps:
  xfer:
    transfer: {target: "sip:sales@example.com", mode: bridge}
    on_failure: failed
    next: done
  failed: {play: a.wav, next: end}
  done: {play: b.wav, next: end}
  end: {hangup: true}
`

func TestTransferRoutes(t *testing.T) {
	tests := []struct {
		name string
		res  agent.TransferResult
		err  error
		want []int16
	}{
		{"completed", agent.TransferResult{Status: "completed", SIPCode: 200}, nil, promptB},
		{"busy", agent.TransferResult{Status: "busy", SIPCode: 486}, nil, promptA},
		{"no answer", agent.TransferResult{Status: "no-answer", SIPCode: 408}, nil, promptA},
		{"unsupported", agent.TransferResult{}, agent.ErrTransferUnsupported, promptA},
		{"error", agent.TransferResult{}, errors.New("REFER rejected"), promptA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			transfer := agenttest.WithTransfer(func(context.Context, agent.TransferRequest) (agent.TransferResult, error) {
				return tt.res, tt.err
			})
			call, _, done := run(t, ctx, transferFlow, []agenttest.Option{transfer})
			played(t, ctx, call, done, tt.want)
			want := []agent.TransferRequest{{Target: "sip:sales@example.com", Mode: "bridge"}}
			if got := call.Snapshot().Transfers; !slices.Equal(got, want) {
				t.Errorf("transfers = %+v, want %+v", got, want)
			}
		})
	}
}

func TestTransferConfiguredTarget(t *testing.T) {
	ctx := testContext(t)
	transfer := agenttest.WithTransfer(func(context.Context, agent.TransferRequest) (agent.TransferResult, error) {
		return agent.TransferResult{Status: "completed"}, nil
	})
	call, _, done := run(t, ctx, steps("a: {transfer: {mode: refer}, next: b}", "b: {hangup: true}"),
		[]agenttest.Option{transfer}, WithTransferTarget("sip:op@example.com"))
	played(t, ctx, call, done, nil)
	want := []agent.TransferRequest{{Target: "sip:op@example.com", Mode: "refer"}}
	if got := call.Snapshot().Transfers; !slices.Equal(got, want) {
		t.Errorf("transfers = %+v, want %+v", got, want)
	}
}

func TestTransferFailureWithoutOnFailureGoesNext(t *testing.T) {
	ctx := testContext(t)
	call, _, done := run(t, ctx, steps("a: {transfer: {target: \"tel:+15550100\"}, next: b}", "b: {play: a.wav, next: c}", "c: {hangup: true}"), nil)
	played(t, ctx, call, done, promptA)
}

func TestTransferCallerHangsUp(t *testing.T) {
	ctx := testContext(t)
	requested := make(chan struct{})
	transfer := agenttest.WithTransfer(func(ctx context.Context, _ agent.TransferRequest) (agent.TransferResult, error) {
		close(requested)
		<-ctx.Done()
		return agent.TransferResult{}, ctx.Err()
	})
	call, _, done := run(t, ctx, transferFlow, []agenttest.Option{transfer})
	select {
	case <-requested:
	case <-ctx.Done():
		t.Fatal("no transfer requested")
	}
	call.Hangup()
	played(t, ctx, call, done, nil)
}

// A transfer step that names no mode takes the agent's configured one
// (the demo's forward_mode); one that names a mode keeps it.
func TestTransferConfiguredMode(t *testing.T) {
	ctx := testContext(t)
	transfer := agenttest.WithTransfer(func(context.Context, agent.TransferRequest) (agent.TransferResult, error) {
		return agent.TransferResult{Status: "failed"}, nil
	})
	call, _, done := run(t, ctx, steps("a: {transfer: {}, on_failure: b, next: c}", "b: {transfer: {mode: bridge}, on_failure: c, next: c}", "c: {hangup: true}"),
		[]agenttest.Option{transfer}, WithTransferTarget("sip:op@example.com"), WithTransferMode("refer"))
	played(t, ctx, call, done, nil)
	want := []agent.TransferRequest{{Target: "sip:op@example.com", Mode: "refer"}, {Target: "sip:op@example.com", Mode: "bridge"}}
	if got := call.Snapshot().Transfers; !slices.Equal(got, want) {
		t.Errorf("transfers = %+v, want %+v", got, want)
	}
	f, err := Parse([]byte(steps("a: {hangup: true}")), testFS(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(f, WithTransferMode("fax")); err == nil {
		t.Error("New accepted transfer mode \"fax\"")
	}
}

// A transfer step carries the <Dial> attributes to the request, and a
// flow that starts by forwarding with answer_on_bridge defers the answer.
func TestTransferDialAttributes(t *testing.T) {
	ctx := testContext(t)
	transfer := agenttest.WithTransfer(func(context.Context, agent.TransferRequest) (agent.TransferResult, error) {
		return agent.TransferResult{Status: "completed"}, nil
	})
	yaml := steps(`a: {transfer: {target: "sip:sales@example.com", mode: bridge, timeout: 20s, time_limit: 1h, caller_id: "+15550100", answer_on_bridge: true, hangup_on_star: true}, next: b}`, "b: {hangup: true}")
	call, _, done := run(t, ctx, yaml, []agenttest.Option{transfer})
	played(t, ctx, call, done, nil)
	want := []agent.TransferRequest{{Target: "sip:sales@example.com", Mode: "bridge", Timeout: 20 * time.Second,
		TimeLimit: time.Hour, CallerID: "+15550100", AnswerOnBridge: true, HangupOnStar: true}}
	if got := call.Snapshot().Transfers; !slices.Equal(got, want) {
		t.Errorf("transfers = %+v, want %+v", got, want)
	}

	for _, tt := range []struct {
		yaml     string
		deferred bool
	}{
		{yaml, true},
		{steps(`a: {transfer: {target: "sip:sales@example.com", answer_on_bridge: false}, next: b}`, "b: {hangup: true}"), false},
		{steps(`a: {transfer: {target: "sip:sales@example.com"}, next: b}`, "b: {hangup: true}"), false},
		{steps(`a: {play: a.wav, next: b}`, `b: {transfer: {target: "sip:sales@example.com", answer_on_bridge: true}, next: c}`, "c: {hangup: true}"), false},
	} {
		f, err := Parse([]byte(tt.yaml), testFS(t))
		if err != nil {
			t.Fatal(err)
		}
		a, err := New(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.DeferAnswer(agent.Info{}); got != tt.deferred {
			t.Errorf("DeferAnswer = %t, want %t for\n%s", got, tt.deferred, tt.yaml)
		}
	}
}

func TestTransferDialAttributeErrors(t *testing.T) {
	for _, tt := range []struct{ step, want string }{
		{`transfer: {caller_id: "a b"}`, "caller_id"},
		{`transfer: {caller_id: "<sip:x>"}`, "caller_id"},
		{`transfer: {timeout: 1s}`, "timeout"},
		{`transfer: {time_limit: 0s}`, "time_limit"},
		{`transfer: {answer_on_bridge: maybe}`, "answer_on_bridge"},
		{`transfer: {hangup_on_star: 2}`, "hangup_on_star"},
	} {
		_, err := Parse([]byte(steps("a: {"+tt.step+", next: b}", "b: {hangup: true}")), testFS(t))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one naming %s", tt.step, err, tt.want)
		}
	}
}
