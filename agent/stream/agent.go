package stream

import (
	"context"
	"log/slog"

	"github.com/sipagent/sipagent/agent"
)

// Agent streams every call it serves to one Media Streams WebSocket
// server. It implements agent.Agent.
type Agent struct {
	opts     Options
	fallback agent.Agent
	log      *slog.Logger
}

var _ agent.Agent = (*Agent)(nil)

// New returns an Agent for cfg, or a *ConfigError naming the first bad
// field, so that a mistake shows at start-up rather than on a call.
func New(cfg Config) (*Agent, error) {
	opts := cfg.options()
	if err := opts.check("Config"); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Agent{opts: opts, fallback: cfg.Fallback, log: log}, nil
}

// Serve answers the call and streams it (see Run). When the stream could
// not be opened, failed, or was closed by the agent, Serve runs the
// fallback agent on the call if there is one, and otherwise returns, which
// hangs up: nil after a normal close, the stream's error after a failure.
// The caller hanging up is not an error.
func (a *Agent) Serve(ctx context.Context, call agent.Call) error {
	res, err := Run(ctx, call, a.opts)
	if res.End == EndHangup || ctx.Err() != nil {
		return err
	}
	if a.fallback == nil {
		return err
	}
	level := slog.LevelInfo
	if err != nil {
		level = slog.LevelWarn
	}
	a.log.Log(ctx, level, "stream: running fallback agent", "call_sid", res.CallSid, "end", res.End.String(), "err", err)
	return a.fallback.Serve(ctx, call)
}
