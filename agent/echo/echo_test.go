package echo

import (
	"slices"
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/agenttest"
)

func TestEchoAgent(t *testing.T) {
	ctx := testContext(t)
	call := agenttest.New()
	done := agenttest.Start(ctx, New(40*time.Millisecond), call)
	for v := int16(1); v <= 5; v++ {
		if err := call.SendAudio(ctx, frame(v)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := call.AwaitPlayed(ctx, 5*agent.FrameSamples)
	if err != nil {
		t.Fatal(err)
	}
	// Two frames of silence (40 ms), then the caller's frames.
	var want []int16
	for _, v := range []int16{0, 0, 1, 2, 3} {
		want = append(want, frame(v)...)
	}
	if !slices.Equal(got, want) {
		t.Errorf("played %d samples, not two silent frames then frames 1 to 3", len(got))
	}
	call.Hangup()
	if err := agenttest.Result(ctx, done); err != nil {
		t.Errorf("Serve after hang-up = %v, want nil", err)
	}
}

func TestEchoAgentDefaultDelay(t *testing.T) {
	ctx := testContext(t)
	call := agenttest.New()
	done := agenttest.Start(ctx, New(0), call)
	silent := int(DefaultDelay / frameDuration)
	for v := range int16(silent + 1) {
		if err := call.SendAudio(ctx, frame(v+1)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := call.AwaitPlayed(ctx, (silent+1)*agent.FrameSamples)
	if err != nil {
		t.Fatal(err)
	}
	if n := slices.Index(got, 1); n != silent*agent.FrameSamples {
		t.Errorf("first echoed sample at %d, want %d (%v of silence)", n, silent*agent.FrameSamples, DefaultDelay)
	}
	call.Hangup()
	if err := agenttest.Result(ctx, done); err != nil {
		t.Errorf("Serve = %v", err)
	}
}
