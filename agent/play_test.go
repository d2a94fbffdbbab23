package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/agenttest"
	"github.com/sipagent/sipagent/media/wav"
)

func TestPlayFile(t *testing.T) {
	want := make([]int16, 1000) // 125 ms, not a whole number of frames
	for i := range want {
		want[i] = int16(i * 7)
	}
	path := filepath.Join(t.TempDir(), "p.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := wav.Encode(f, want, 8000); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	call := agenttest.New()
	if err := agent.PlayFile(ctx, call, path); err != nil {
		t.Fatal(err)
	}
	if got := call.Snapshot().Played; !slices.Equal(got, want) {
		t.Errorf("played %d samples, want the file's %d exactly", len(got), len(want))
	}
	if err := agent.PlayFile(ctx, call, filepath.Join(t.TempDir(), "missing.wav")); err == nil {
		t.Error("missing file played without error")
	}
}
