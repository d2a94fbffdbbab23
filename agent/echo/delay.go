package echo

import (
	"context"
	"time"

	"github.com/sipagent/sipagent/agent"
)

// frameDuration is the length of one agent frame.
const frameDuration = time.Second * agent.FrameSamples / agent.SampleRate

// delayLine plays frames back a fixed number of frames after reading
// them. It is a ring of frames+1 slots allocated once: each read fills the
// newest slot, and the slot after it, the oldest, is written. Until the
// ring has gone round once the oldest slots hold silence, which is what
// delays the echo. Measuring the delay in frames read, rather than by a
// clock, keeps the echo in step with the caller's audio whatever the
// playout queue does.
type delayLine struct {
	slots [][]int16
	lens  []int // samples held in each slot
	next  int   // slot the next frame is read into
}

// newDelayLine returns a delay line of delay, rounded up to whole frames.
func newDelayLine(delay time.Duration) *delayLine {
	frames := 0
	if delay > 0 {
		frames = int((delay + frameDuration - 1) / frameDuration)
	}
	n := frames + 1
	backing := make([]int16, n*agent.FrameSamples)
	d := &delayLine{slots: make([][]int16, n), lens: make([]int, n)}
	for i := range d.slots {
		d.slots[i] = backing[i*agent.FrameSamples : (i+1)*agent.FrameSamples]
		d.lens[i] = agent.FrameSamples
	}
	return d
}

// run echoes until reading or writing fails, and returns that error. It
// allocates nothing.
func (d *delayLine) run(ctx context.Context, call agent.Call) error {
	for {
		n, err := call.ReadAudio(ctx, d.slots[d.next])
		if err != nil {
			return err
		}
		d.lens[d.next] = n
		d.next = (d.next + 1) % len(d.slots)
		if err := call.WriteAudio(ctx, d.slots[d.next][:d.lens[d.next]]); err != nil {
			return err
		}
	}
}
