package flow

import (
	"testing"

	"github.com/sipagent/sipagent/agent/agenttest"
)

func TestBargeIn(t *testing.T) {
	ctx := testContext(t)
	yaml := steps(
		"a:",
		"  gather: {play: a.wav, max_digits: 2}",
		"  branch: {\"12\": ok}",
		"  next: end",
		"ok: {play: b.wav, next: end}",
		"end: {hangup: true}",
	)
	call, _, done := run(t, ctx, yaml, []agenttest.Option{agenttest.WithManualPlayout()})
	// The prompt is queued and playing; a key press cuts it off.
	if err := call.Await(ctx, func(r *agenttest.Record) bool { return r.Queued == len(promptA) }); err != nil {
		t.Fatal(err)
	}
	if err := call.Press(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	if err := call.Await(ctx, func(r *agenttest.Record) bool { return r.Clears == 1 && r.Queued == 0 }); err != nil {
		t.Fatal(err)
	}
	// The barge-in key was the first digit.
	if err := call.Press(ctx, "2"); err != nil {
		t.Fatal(err)
	}
	if err := call.Await(ctx, func(r *agenttest.Record) bool { return r.Queued == len(promptB) }); err != nil {
		t.Fatal(err)
	}
	call.FinishPlayout()
	played(t, ctx, call, done, cat(promptA, promptB))
}

func TestHangupDuringPrompt(t *testing.T) {
	ctx := testContext(t)
	call, _, done := run(t, ctx, steps("a: {gather: {play: a.wav, max_digits: 1}, next: b}", "b: {hangup: true}"),
		[]agenttest.Option{agenttest.WithManualPlayout()})
	if err := call.Await(ctx, func(r *agenttest.Record) bool { return r.Queued == len(promptA) }); err != nil {
		t.Fatal(err)
	}
	call.Hangup()
	played(t, ctx, call, done, promptA)
}
