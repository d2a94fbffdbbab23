package agenttest

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/sipagent/sipagent/agent"
)

// errAwait wraps a context error from Await.
var errAwait = errors.New("agenttest: condition not met")

// Record is what an agent has done to a Call so far.
type Record struct {
	// Played holds every sample written with WriteAudio, in order,
	// including samples later dropped by ClearAudio.
	Played []int16
	// Queued counts samples not yet played (WithManualPlayout only).
	Queued int
	// Clears counts ClearAudio calls.
	Clears int
	// Transfers holds every Transfer request, in order.
	Transfers []agent.TransferRequest
	// Answers counts Answer calls.
	Answers int
	// Ended is true once the call has ended.
	Ended bool
}

// String summarises the record for failure messages.
func (r *Record) String() string {
	return fmt.Sprintf("played %d samples, %d queued, %d clears, %d transfers, ended %t",
		len(r.Played), r.Queued, r.Clears, len(r.Transfers), r.Ended)
}

// Snapshot returns a copy of the record.
func (c *Call) Snapshot() Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.rec
	r.Played = slices.Clone(r.Played)
	r.Transfers = slices.Clone(r.Transfers)
	return r
}

// Await blocks until cond reports true or ctx is done. cond is called
// with the record locked, each time it changes; it must not keep the
// pointer or call the Call's methods.
func (c *Call) Await(ctx context.Context, cond func(*Record) bool) error {
	for {
		c.mu.Lock()
		ok, changed := cond(&c.rec), c.changed
		summary := c.rec.String()
		c.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("%w (%v); call so far: %s", errAwait, ctx.Err(), summary)
		}
	}
}

// AwaitPlayed blocks until at least n samples have been written and
// returns a copy of everything written.
func (c *Call) AwaitPlayed(ctx context.Context, n int) ([]int16, error) {
	if err := c.Await(ctx, func(r *Record) bool { return len(r.Played) >= n }); err != nil {
		return nil, err
	}
	return c.Snapshot().Played, nil
}
