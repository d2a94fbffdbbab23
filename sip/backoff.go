package sip

import (
	"math/rand/v2"
	"time"
)

// backoff yields exponentially growing waits between min and max with
// "equal jitter": each wait is at least half the nominal one, so retries
// never bunch up into a tight loop, and the random half spreads many
// clients that failed together (a registrar restart) over time.
type backoff struct {
	min, max time.Duration
	n        int
}

func (b *backoff) next() time.Duration {
	d := b.min
	for i := 0; i < b.n && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	if d < b.max {
		b.n++
	}
	half := d / 2
	return half + rand.N(half+1)
}

func (b *backoff) reset() { b.n = 0 }
