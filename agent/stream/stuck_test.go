package stream

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/agenttest"
)

// stuckCall is an agenttest.Call whose playout queue is full until the
// first ClearAudio: WriteAudio blocks, as a real call's does, and a
// ClearAudio releases it, dropping what it was writing, as the media
// session does. Every write is reported on writes.
type stuckCall struct {
	*agenttest.Call
	writes chan []int16

	cleared chan struct{} // closed by the first ClearAudio
	once    sync.Once
}

var _ agent.Call = (*stuckCall)(nil)

func newStuckCall() *stuckCall {
	return &stuckCall{Call: agenttest.New(), writes: make(chan []int16, 16), cleared: make(chan struct{})}
}

func (c *stuckCall) WriteAudio(ctx context.Context, pcm []int16) error {
	c.writes <- slices.Clone(pcm)
	select {
	case <-c.cleared:
		return c.Call.WriteAudio(ctx, pcm)
	default:
	}
	select {
	case <-c.cleared:
		return nil // dropped by the clear
	case <-c.Ended():
		return agent.ErrHangup
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *stuckCall) ClearAudio() {
	c.once.Do(func() { close(c.cleared) })
	c.Call.ClearAudio()
}

// awaitWrite waits for the next WriteAudio and checks its length.
func (c *stuckCall) awaitWrite(ctx context.Context, t *testing.T, n int) {
	t.Helper()
	select {
	case pcm := <-c.writes:
		if len(pcm) != n {
			t.Fatalf("WriteAudio of %d samples, want %d", len(pcm), n)
		}
	case <-ctx.Done():
		t.Fatalf("no WriteAudio of %d samples: %v", n, ctx.Err())
	}
}
