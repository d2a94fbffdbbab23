package echo

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/agenttest"
)

// startRun runs Run in a goroutine and returns its result channel.
func startRun(ctx context.Context, call agent.Call, delay time.Duration, stop Stop) <-chan error {
	done := make(chan error, 1)
	go func() { done <- Run(ctx, call, delay, stop) }()
	return done
}

func TestRunNoDelay(t *testing.T) {
	ctx := testContext(t)
	call := agenttest.New()
	runCtx, cancel := context.WithCancel(ctx)
	done := startRun(runCtx, call, 0, Stop{})
	short := []int16{7, 8, 9} // a short frame is echoed at its length
	if err := call.SendAudio(ctx, short); err != nil {
		t.Fatal(err)
	}
	got, err := call.AwaitPlayed(ctx, 3)
	if err != nil || !slices.Equal(got, short) {
		t.Fatalf("played %v, %v; want %v", got, err, short)
	}
	cancel()
	if err := agenttest.Result(ctx, done); !errors.Is(err, context.Canceled) {
		t.Errorf("Run after cancel = %v, want context.Canceled", err)
	}
}

func TestRunStopKey(t *testing.T) {
	ctx := testContext(t)
	call := agenttest.New()
	done := startRun(ctx, call, 30*time.Millisecond, Stop{Key: '#'})
	if err := call.Press(ctx, "12"); err != nil {
		t.Fatal(err)
	}
	for v := int16(1); v <= 3; v++ {
		if err := call.SendAudio(ctx, frame(v)); err != nil {
			t.Fatal(err)
		}
	}
	// 30 ms rounds up to two frames of delay.
	got, err := call.AwaitPlayed(ctx, 3*agent.FrameSamples)
	if err != nil {
		t.Fatal(err)
	}
	if want := append(frame(0), append(frame(0), frame(1)...)...); !slices.Equal(got, want) {
		t.Error("echo not delayed by two frames")
	}
	if err := call.Press(ctx, "#"); err != nil {
		t.Fatal(err)
	}
	if err := agenttest.Result(ctx, done); err != nil {
		t.Fatalf("Run stopped by key = %v, want nil", err)
	}
	if r := call.Snapshot(); r.Clears != 1 {
		t.Errorf("ClearAudio called %d times, want 1", r.Clears)
	}
}

func TestRunStopAfter(t *testing.T) {
	ctx := testContext(t)
	call := agenttest.New()
	after := make(chan time.Time, 1)
	done := startRun(ctx, call, 0, Stop{After: after})
	if err := call.SendAudio(ctx, frame(1)); err != nil {
		t.Fatal(err)
	}
	after <- time.Now()
	if err := agenttest.Result(ctx, done); err != nil {
		t.Fatalf("Run stopped by timer = %v, want nil", err)
	}
	// Without a stop key the DTMF channel is left alone.
	if err := call.Press(ctx, "#"); err != nil {
		t.Fatal(err)
	}
	if k := <-call.DTMF(); k != '#' {
		t.Errorf("DTMF = %q, want #", k)
	}
}

func TestRunHangup(t *testing.T) {
	ctx := testContext(t)
	call := agenttest.New()
	done := startRun(ctx, call, 0, Stop{Key: '#'})
	call.Hangup()
	if err := agenttest.Result(ctx, done); !errors.Is(err, agent.ErrHangup) {
		t.Errorf("Run after hang-up = %v, want ErrHangup", err)
	}
}
