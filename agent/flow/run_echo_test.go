package flow

import (
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
)

func TestEchoStep(t *testing.T) {
	ctx := testContext(t)
	call, clock, done := run(t, ctx, steps("a: {echo: {duration: 10s, delay: 0s}, next: b}", "b: {play: a.wav, next: c}", "c: {hangup: true}"), nil)
	voice := tone(500, agent.FrameSamples)
	if err := call.SendAudio(ctx, voice); err != nil {
		t.Fatal(err)
	}
	if _, err := call.AwaitPlayed(ctx, len(voice)); err != nil {
		t.Fatal(err)
	}
	// Keys do not end an echo without until_key; they wait for a gather.
	if err := call.Press(ctx, "#"); err != nil {
		t.Fatal(err)
	}
	if err := clock.fire(ctx, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	played(t, ctx, call, done, cat(voice, promptA))
	if r := call.Snapshot(); r.Clears != 1 {
		t.Errorf("ClearAudio called %d times after the echo, want 1", r.Clears)
	}
}
