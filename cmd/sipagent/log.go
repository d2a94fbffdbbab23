package main

import (
	"context"
	"io"
	"log/slog"

	sipgosip "github.com/emiago/sipgo/sip"
	"github.com/sipagent/sipagent/cmd/sipagent/config"
)

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// routeSipgoDefaultLog sends the few records sipgo writes to its
// process-wide default logger (instead of the logger the server gives it)
// into ours, errors only: its warnings there, such as "TCP ref went
// negative" when a peer drops a connection mid-transaction, are for a
// remote peer to trigger at will.
func routeSipgoDefaultLog(log *slog.Logger) {
	sipgosip.SetDefaultLogger(slog.New(minLevel{log.Handler(), slog.LevelError}).With("component", "sipgo"))
}

// minLevel is a slog.Handler that passes on records at level min or above.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(as), h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.min}
}
