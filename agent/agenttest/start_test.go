package agenttest

import (
	"context"
	"errors"
	"testing"

	"github.com/sipagent/sipagent/agent"
)

func TestStartCancelsOnHangup(t *testing.T) {
	ctx := testContext(t)
	c := New()
	done := Start(ctx, agent.AgentFunc(func(ctx context.Context, call agent.Call) error {
		<-ctx.Done()
		return ctx.Err()
	}), c)
	c.Hangup()
	if err := Result(ctx, done); !errors.Is(err, context.Canceled) {
		t.Errorf("Serve = %v, want context.Canceled", err)
	}
}

func TestStartEndsCallWhenServeReturns(t *testing.T) {
	ctx := testContext(t)
	c := New()
	want := errors.New("done")
	done := Start(ctx, agent.AgentFunc(func(ctx context.Context, call agent.Call) error {
		return want
	}), c)
	if err := Result(ctx, done); !errors.Is(err, want) {
		t.Errorf("Serve = %v, want %v", err, want)
	}
	select {
	case <-c.Ended():
	default:
		t.Error("call not ended after Serve returned")
	}
	if _, ok := <-c.DTMF(); ok {
		t.Error("DTMF open after Serve returned")
	}
}

func TestStartAfterHangup(t *testing.T) {
	ctx := testContext(t)
	c := New()
	c.Hangup()
	done := Start(ctx, agent.AgentFunc(func(ctx context.Context, call agent.Call) error {
		<-ctx.Done()
		return nil
	}), c)
	if err := Result(ctx, done); err != nil {
		t.Errorf("Serve = %v", err)
	}
}

func TestResultTimesOut(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Result(ctx, make(chan error)); !errors.Is(err, context.Canceled) {
		t.Errorf("Result = %v, want context.Canceled", err)
	}
}
