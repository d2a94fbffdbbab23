// Package siptest holds what tests of sipagent's SIP server share
// across packages: a test logger, free ports, polling for a condition,
// and throwaway certificates for SIP over TLS.
package siptest

import (
	"bytes"
	"log/slog"
	"os"
	"sync"
	"testing"
)

// Logger sends log records at level and above to the test log until the
// test ends; SIPAGENT_TEST_LOG=1 lowers the level to debug. Records
// from goroutines that outlive the test (sipgo answers each request in
// one of its own) are dropped instead of reaching a finished test: make
// the logger before the server whose records it takes, so that its
// cleanup runs after the server's Close (cleanups run last in, first
// out) and what Close logs is kept.
func Logger(t testing.TB, level slog.Level) *slog.Logger {
	if os.Getenv("SIPAGENT_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	w := &testWriter{t: t}
	t.Cleanup(w.stop)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// testWriter sends log lines to the test log until stop.
type testWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(string(bytes.TrimRight(p, "\n")))
	}
	return len(p), nil
}

func (w *testWriter) stop() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
}
