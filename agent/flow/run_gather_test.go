package flow

import (
	"testing"
	"time"
)

func TestGather(t *testing.T) {
	yaml := steps(
		"a:",
		"  gather: {max_digits: 4, finish_on_key: \"#\", timeout: 3s}",
		"  branch: {\"12\": twelve, default: other, timeout: none}",
		"twelve: {play: a.wav, next: end}",
		"other: {play: b.wav, next: end}",
		"none: {pause: 1s, next: end}",
		"end: {hangup: true}",
	)
	tests := []struct {
		name   string
		keys   string
		fire   []time.Duration // timers to fire after pressing keys
		played []int16
	}{
		{"finish key", "12#", nil, promptA},
		{"max digits", "1234", nil, promptB},
		{"timeout after digits", "12", []time.Duration{3 * time.Second}, promptA},
		{"unknown digits", "9#", nil, promptB},
		{"nothing", "", []time.Duration{3 * time.Second, time.Second}, nil},
		{"finish key alone", "#", []time.Duration{time.Second}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			call, clock, done := run(t, ctx, yaml, nil)
			if err := call.Press(ctx, tt.keys); err != nil {
				t.Fatal(err)
			}
			// A timer for the first key and one after each key
			// taken: only then is the last timer the one to fire.
			if len(tt.fire) > 0 {
				if err := clock.awaitCreated(ctx, len(tt.keys)+1); err != nil {
					t.Fatal(err)
				}
			}
			for _, d := range tt.fire {
				if err := clock.fire(ctx, d); err != nil {
					t.Fatal(err)
				}
			}
			played(t, ctx, call, done, tt.played)
		})
	}
}

func TestGatherAttempts(t *testing.T) {
	ctx := testContext(t)
	yaml := steps(
		"a:",
		"  gather: {play: a.wav, max_digits: 1, timeout: 2s, attempts: 2}",
		"  branch: {\"1\": end, timeout: bye}",
		"  next: end",
		"bye: {play: b.wav, next: end}",
		"end: {hangup: true}",
	)
	call, clock, done := run(t, ctx, yaml, nil)
	for range 2 {
		if err := clock.fire(ctx, 2*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	played(t, ctx, call, done, cat(promptA, promptA, promptB))
}

func TestCallerHangsUpDuringGather(t *testing.T) {
	ctx := testContext(t)
	call, _, done := run(t, ctx, steps("a: {gather: {max_digits: 1}, next: b}", "b: {hangup: true}"), nil)
	call.Hangup()
	played(t, ctx, call, done, nil)
}
