package echo

import (
	"context"
	"errors"
	"time"

	"github.com/sipagent/sipagent/agent"
)

// New returns an agent that echoes the caller until the call ends. A
// delay of 0 or less means DefaultDelay.
func New(delay time.Duration) agent.Agent {
	if delay <= 0 {
		delay = DefaultDelay
	}
	return agent.AgentFunc(func(ctx context.Context, call agent.Call) error {
		err := Run(ctx, call, delay, Stop{})
		if errors.Is(err, agent.ErrHangup) || ctx.Err() != nil {
			return nil // the caller hung up: the echo is over
		}
		return err
	})
}
