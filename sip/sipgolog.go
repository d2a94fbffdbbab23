package sip

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// sipgo logs every message it cannot parse, or cannot hand to a
// transaction, at Error level, the raw message included
// (transport_udp.go parseAndHandle, transport_tcp.go parseStream,
// transaction_layer.go). Anyone who can reach a listener could write to
// sipagent's log at line rate. sipgoHandler turns those records into
// Debug records with the data cut short, counts them, and writes a Warn
// summary at most once per droppedReportEvery. Unparseable requests are
// also handed to onUnparsed, to be answered (badrequest.go).
const (
	droppedReportEvery = time.Minute
	maxLoggedData      = 256 // bytes of a dropped message kept in its Debug record
)

// remoteTriggered are the messages of the sipgo log records that a
// remote peer causes at will.
var remoteTriggered = map[string]bool{
	"failed to parse":                     true, // unparseable datagram or stream data
	"Server tx failed to handle request":  true, // e.g. no Via branch or CSeq (sipgo answers 400 if it can)
	"Client tx failed to handle response": true, // a response sipgo cannot key
	"Read error":                          true, // a stream reset, or a TLS handshake that failed or timed out
}

// sipgoLogState is shared by a sipgoHandler and the handlers derived
// from it with WithAttrs and WithGroup.
type sipgoLogState struct {
	dropped atomic.Uint64
	// onUnparsed, if set, is given each message sipgo failed to parse,
	// on the goroutine that read it. Set before serving.
	onUnparsed func(data string)

	// sipgo runs each request in a goroutine nobody can wait for, so
	// records can come after Server.Close; closed drops them, and
	// closeMu makes close wait for records being written.
	closeMu sync.RWMutex
	closed  bool

	summary logEvery // the Warn summary of dropped messages
}

func newSipgoLogState() *sipgoLogState {
	return &sipgoLogState{summary: logEvery{every: droppedReportEvery}}
}

// addDropped counts one dropped message and says whether a summary is
// due, with the count since the last one.
func (st *sipgoLogState) addDropped(now time.Time) (uint64, bool) {
	st.dropped.Add(1)
	return st.summary.tick(now)
}

// close stops all further sipgo records once those being written are.
func (st *sipgoLogState) close() {
	st.closeMu.Lock()
	st.closed = true
	st.closeMu.Unlock()
}

type sipgoHandler struct {
	inner slog.Handler
	state *sipgoLogState
}

func newSipgoHandler(inner slog.Handler, state *sipgoLogState) *sipgoHandler {
	return &sipgoHandler{inner: inner, state: state}
}

// Enabled lets Warn and above through whatever the level, so that
// remote-triggered records are counted even when Debug is off.
func (h *sipgoHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.inner.Enabled(ctx, l)
}

func (h *sipgoHandler) Handle(ctx context.Context, r slog.Record) error {
	h.state.closeMu.RLock()
	defer h.state.closeMu.RUnlock()
	if h.state.closed {
		return nil
	}
	if !remoteTriggered[r.Message] {
		if !h.inner.Enabled(ctx, r.Level) {
			return nil
		}
		return h.inner.Handle(ctx, r)
	}
	if r.Message == "failed to parse" && h.state.onUnparsed != nil {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "data" {
				h.state.onUnparsed(a.Value.String())
				return false
			}
			return true
		})
	}
	if n, due := h.state.addDropped(r.Time); due && h.inner.Enabled(ctx, slog.LevelWarn) {
		s := slog.NewRecord(r.Time, slog.LevelWarn, "SIP messages dropped", r.PC)
		s.AddAttrs(slog.Uint64("count", n), slog.Duration("report_every", droppedReportEvery))
		_ = h.inner.Handle(ctx, s)
	}
	if !h.inner.Enabled(ctx, slog.LevelDebug) {
		return nil
	}
	d := slog.NewRecord(r.Time, slog.LevelDebug, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "data" {
			if s := a.Value.String(); len(s) > maxLoggedData {
				a = slog.String("data", s[:maxLoggedData]+"...")
			}
		}
		d.AddAttrs(a)
		return true
	})
	return h.inner.Handle(ctx, d)
}

func (h *sipgoHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return newSipgoHandler(h.inner.WithAttrs(as), h.state)
}

func (h *sipgoHandler) WithGroup(name string) slog.Handler {
	return newSipgoHandler(h.inner.WithGroup(name), h.state)
}
