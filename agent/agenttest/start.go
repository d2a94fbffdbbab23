package agenttest

import (
	"context"
	"fmt"

	"github.com/sipagent/sipagent/agent"
)

// Start runs a.Serve on c in a new goroutine and returns a channel that
// receives Serve's result. As the sip package does for a real call, Start
// cancels the context it gives Serve when the caller hangs up (Hangup),
// and ends the call when Serve returns.
func Start(ctx context.Context, a agent.Agent, c *Call) <-chan error {
	ctx, cancel := context.WithCancel(ctx)
	c.onEnd(cancel)
	done := make(chan error, 1)
	go func() {
		defer cancel()
		err := a.Serve(ctx, c)
		c.end()
		done <- err
	}()
	return done
}

// Result waits for the result Start delivers on done. If ctx is done
// first it returns an error saying Serve is still running.
func Result(ctx context.Context, done <-chan error) error {
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("agenttest: Serve still running: %w", ctx.Err())
	}
}
