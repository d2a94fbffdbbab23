package flow

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent/agenttest"
)

func TestSay(t *testing.T) {
	ctx := testContext(t)
	synth := &fakeSynth{}
	yaml := steps("a: {say: Hello there., next: b}", "b: {gather: {say: Press, timeout: 1s}, next: c}", "c: {hangup: true}")
	call, clock, done := run(t, ctx, yaml, nil, WithSynthesizer(synth))
	if err := clock.fire(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	played(t, ctx, call, done, make([]int16, len("Hello there.")+len("Press")))
	if want := []string{"Hello there.", "Press"}; !slices.Equal(synth.said(), want) {
		t.Errorf("said %q, want %q", synth.said(), want)
	}
}

func TestSayFailureEndsCall(t *testing.T) {
	ctx := testContext(t)
	synth := &fakeSynth{err: errors.New("engine down")}
	_, _, done := run(t, ctx, steps("a: {say: Hello., next: b}", "b: {hangup: true}"), nil, WithSynthesizer(synth))
	err := agenttest.Result(ctx, done)
	if !errors.Is(err, synth.err) || !strings.Contains(err.Error(), `flow: step "a": say:`) {
		t.Errorf("Serve = %v, want the synthesis error naming step a", err)
	}
}

func TestPlayAndPause(t *testing.T) {
	ctx := testContext(t)
	call, clock, done := run(t, ctx, steps("a: {pause: 2s, next: b}", "b: {play: a.wav, next: c}", "c: {pause: 1m, next: d}", "d: {hangup: true}"), nil)
	if err := clock.fire(ctx, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := call.AwaitPlayed(ctx, len(promptA)); err != nil {
		t.Fatal(err)
	}
	call.Hangup() // during the minute's pause
	played(t, ctx, call, done, promptA)
}
