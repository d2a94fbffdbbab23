package transfer

import (
	"context"
	"math"

	"github.com/sipagent/sipagent/agent"
)

// Ringback tone as North American networks play it (ANSI T1.401): 440 Hz
// and 480 Hz together, 2 s on, 4 s off. A caller already talking to the
// agent hears it while a bridged target rings without early media, so
// the wait does not sound like a dead line.
const (
	ringbackOn     = 2 * agent.SampleRate
	ringbackOff    = 4 * agent.SampleRate
	ringbackLevel  = 2500 // per tone, about -22 dBm0 each
	ringbackFreqLo = 440.0
	ringbackFreqHi = 480.0
)

// ringbackCycle is one on/off cycle of the tone, computed once.
var ringbackCycle = func() []int16 {
	pcm := make([]int16, ringbackOn+ringbackOff)
	for i := range ringbackOn {
		ts := float64(i) / agent.SampleRate
		v := math.Sin(2*math.Pi*ringbackFreqLo*ts) + math.Sin(2*math.Pi*ringbackFreqHi*ts)
		pcm[i] = int16(ringbackLevel * v)
	}
	return pcm
}()

// playRingback plays the tone to c until ctx ends. WriteAudio blocks
// while c's playout queue is full, which paces the loop.
func playRingback(ctx context.Context, c agent.Call) {
	for ctx.Err() == nil {
		for i := 0; i < len(ringbackCycle) && ctx.Err() == nil; i += agent.FrameSamples {
			if c.WriteAudio(ctx, ringbackCycle[i:i+agent.FrameSamples]) != nil {
				return
			}
		}
	}
}
