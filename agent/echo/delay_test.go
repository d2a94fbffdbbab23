package echo

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
)

func TestDelayLineRounding(t *testing.T) {
	for _, tt := range []struct {
		delay time.Duration
		slots int
	}{{0, 1}, {-time.Second, 1}, {time.Millisecond, 2}, {20 * time.Millisecond, 2}, {21 * time.Millisecond, 3}, {DefaultDelay, 11}} {
		if got := len(newDelayLine(tt.delay).slots); got != tt.slots {
			t.Errorf("delay %v: %d slots, want %d", tt.delay, got, tt.slots)
		}
	}
}

// loopCall is an agent.Call whose audio path does nothing, for measuring
// the delay line alone. It fails ReadAudio after n frames.
type loopCall struct {
	agent.Call
	n int
}

var errDone = errors.New("done")

func (c *loopCall) ReadAudio(_ context.Context, frame []int16) (int, error) {
	if c.n == 0 {
		return 0, errDone
	}
	c.n--
	frame[0] = int16(c.n)
	return agent.FrameSamples, nil
}

func (c *loopCall) WriteAudio(context.Context, []int16) error { return nil }

func TestDelayLineAllocatesNothing(t *testing.T) {
	line := newDelayLine(DefaultDelay)
	call := &loopCall{}
	allocs := testing.AllocsPerRun(100, func() {
		call.n = 50
		if err := line.run(context.Background(), call); !errors.Is(err, errDone) {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("delay line allocated %.1f times per 50 frames", allocs)
	}
}

func BenchmarkDelayLine(b *testing.B) {
	line := newDelayLine(DefaultDelay)
	call := &loopCall{n: b.N}
	b.ReportAllocs()
	b.ResetTimer()
	if err := line.run(context.Background(), call); !errors.Is(err, errDone) {
		b.Fatal(err)
	}
}
