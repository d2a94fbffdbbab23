package digest

import (
	"encoding/binary"
	"math"
	"testing"
)

func testID(issued int64, n byte) nonceID {
	var id nonceID
	binary.BigEndian.PutUint64(id[:8], uint64(issued))
	id[8] = n
	return id
}

func TestReplayNonceCount(t *testing.T) {
	tab := newReplayTable(10, 100)
	id := testID(0, 1)
	steps := []struct {
		nc   uint32
		want replayVerdict
	}{
		{1, replayFresh}, {1, replayReplayed}, {2, replayFresh}, {5, replayFresh},
		{3, replayReplayed}, {5, replayReplayed}, {6, replayFresh}, {0, replaySpent},
	}
	for i, s := range steps {
		if got := tab.use(id, s.nc, 10); got != s.want {
			t.Errorf("step %d: use(nc=%d) = %v, want %v", i, s.nc, got, s.want)
		}
	}
}

func TestReplayWithoutQOPIsSingleUse(t *testing.T) {
	tab := newReplayTable(10, 100)
	id := testID(0, 1)
	for i, want := range []replayVerdict{replayFresh, replaySpent, replaySpent} {
		if got := tab.use(id, 0, 10); got != want {
			t.Errorf("use %d = %v, want %v", i, got, want)
		}
	}
	if got := tab.use(id, 7, 10); got != replaySpent {
		t.Errorf("qop use of a spent nonce = %v, want spent", got)
	}
}

func TestReplayBounded(t *testing.T) {
	const limit = 64
	tab := newReplayTable(limit, 1_000_000)
	for i := range 10 * limit {
		if got := tab.use(testID(int64(i), byte(i)), 1, int64(i)); got != replayFresh {
			t.Fatalf("use %d = %v", i, got)
		}
		if len(tab.entries) > limit || len(tab.order) != len(tab.entries) {
			t.Fatalf("after %d uses: %d entries, %d queued; max %d", i+1, len(tab.entries), len(tab.order), limit)
		}
	}
	// Evicted while still valid: refused as forgotten, not accepted as new.
	if got := tab.use(testID(0, 0), 1, 10*limit); got != replayForgotten {
		t.Errorf("evicted nonce = %v, want forgotten", got)
	}
	// Newer than anything evicted: a genuinely fresh nonce still works.
	if got := tab.use(testID(10*limit, 1), 1, 10*limit); got != replayFresh {
		t.Errorf("fresh nonce = %v, want fresh", got)
	}
}

func TestReplayExpiredEntriesDoNotRaiseWatermark(t *testing.T) {
	tab := newReplayTable(4, 100)
	for i := range 4 {
		tab.use(testID(int64(i), byte(i)), 1, int64(i))
	}
	// Much later: all four have expired and are dropped, not evicted.
	if got := tab.use(testID(1000, 9), 1, 1000); got != replayFresh {
		t.Fatalf("use = %v", got)
	}
	if tab.forgotten != math.MinInt64 || len(tab.entries) != 1 {
		t.Errorf("forgotten = %d, entries = %d; want none, 1", tab.forgotten, len(tab.entries))
	}
	if got := tab.use(testID(950, 8), 1, 1000); got != replayFresh {
		t.Errorf("unrelated fresh nonce = %v, want fresh", got)
	}
}
