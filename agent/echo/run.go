package echo

import (
	"context"
	"errors"
	"time"

	"github.com/sipagent/sipagent/agent"
)

// DefaultDelay is the echo delay New uses when given none: long enough to
// tell one's own voice coming back from side tone, short enough to talk
// over.
const DefaultDelay = 200 * time.Millisecond

// Stop says when Run ends, besides ctx being done. The zero Stop never
// ends the echo.
type Stop struct {
	// Key is a DTMF key that ends the echo; 0 for none. With a key set,
	// Run reads the call's DTMF channel and discards other keys; without
	// one it leaves the channel alone.
	Key rune
	// After ends the echo when it delivers, typically a timer's channel;
	// nil for never.
	After <-chan time.Time
}

// Run plays back what the caller says, delay later (rounded up to whole
// 20 ms frames; 0 echoes each frame as soon as it is read), until stop
// says to end it or ctx is done. When stopped, it drops echo audio still
// queued and returns nil; otherwise it returns ctx's error or the call's,
// such as agent.ErrHangup.
//
// Run allocates its buffers once, before the first frame.
func Run(ctx context.Context, call agent.Call, delay time.Duration, stop Stop) error {
	line := newDelayLine(delay)
	loopCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	loopDone := make(chan error, 1)
	go func() { loopDone <- line.run(loopCtx, call) }()

	var keys <-chan rune
	if stop.Key != 0 {
		keys = call.DTMF()
	}
	for {
		select {
		case err := <-loopDone:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		case k, ok := <-keys:
			if !ok {
				keys = nil // the call ended; the loop reports it
				continue
			}
			if k != stop.Key {
				continue
			}
		case <-stop.After:
		}
		cancel()
		// The loop was cancelled just now; any other error (the call
		// ended meanwhile) is the caller's to see.
		if err := <-loopDone; err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		call.ClearAudio()
		return nil
	}
}
