package agenttest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestAwaitTimesOut(t *testing.T) {
	ctx := testContext(t)
	c := New()
	if err := c.WriteAudio(ctx, []int16{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	_, err := c.AwaitPlayed(short, 4)
	if !errors.Is(err, errAwait) || !strings.Contains(err.Error(), "played 3 samples") {
		t.Errorf("AwaitPlayed past the end = %v, want errAwait with a summary", err)
	}
}

func TestSnapshotIsACopy(t *testing.T) {
	ctx := testContext(t)
	c := New()
	if err := c.WriteAudio(ctx, []int16{1}); err != nil {
		t.Fatal(err)
	}
	r := c.Snapshot()
	r.Played[0] = 9
	if c.Snapshot().Played[0] != 1 {
		t.Error("Snapshot shares Played with the Call")
	}
}
