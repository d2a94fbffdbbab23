package digest

import (
	"math"
	"sync"
)

// replayTable remembers, for nonces that have been used with a correct
// digest, the highest nonce count seen (RFC 7616 s.3.4: the server
// refuses a count it has already seen). Only a correct digest inserts,
// so callers without a password cannot grow it; it holds at most max
// entries whatever the load, evicting in first-use order.
//
// Evicting a nonce that has not expired would let it be replayed from
// nc=1, so the table remembers the newest issue time it has evicted and
// treats any unknown nonce issued at or before it as forgotten: the
// caller answers stale=true and the client moves to a fresh nonce. Under
// normal load nothing is evicted before it expires and this never fires.
type replayTable struct {
	mu       sync.Mutex
	max      int
	lifetime int64 // nanoseconds
	entries  map[nonceID]replayEntry
	order    []nonceID // first-use order, oldest first; same keys as entries
	// forgotten is the newest issue time among unexpired evicted nonces.
	forgotten int64
}

type replayEntry struct {
	nc    uint32 // highest nonce count accepted
	spent bool   // used without qop: single use (RFC 2617 s.3.2.2 leaves reuse to the server)
}

// replayVerdict is what the table says about one use of a nonce.
type replayVerdict int

const (
	replayFresh     replayVerdict = iota // accept
	replaySpent                          // no-qop nonce used before: stale
	replayForgotten                      // may have been evicted: stale
	replayReplayed                       // nc not above the last one: deny
)

func newReplayTable(maxEntries int, lifetime int64) *replayTable {
	return &replayTable{
		max:      maxEntries,
		lifetime: lifetime,
		entries:  make(map[nonceID]replayEntry),
		// Nothing evicted yet: no issue time is at or before this.
		forgotten: math.MinInt64,
	}
}

// use records one use of a verified, unexpired nonce at time now. nc is
// the nonce count, 0 when the request carried no qop.
func (t *replayTable) use(id nonceID, nc uint32, now int64) replayVerdict {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.entries[id]; ok {
		switch {
		case nc == 0 || e.spent:
			return replaySpent
		case nc <= e.nc:
			return replayReplayed
		}
		e.nc = nc
		t.entries[id] = e
		return replayFresh
	}
	if id.issued() <= t.forgotten {
		return replayForgotten
	}
	t.dropExpired(now)
	for len(t.order) >= t.max {
		t.evictOldest(now)
	}
	t.entries[id] = replayEntry{nc: nc, spent: nc == 0}
	t.order = append(t.order, id)
	return replayFresh
}

// dropExpired removes expired entries from the front of the queue; they
// are refused by age anyway, so forgetting them is free.
func (t *replayTable) dropExpired(now int64) {
	for len(t.order) > 0 && now-t.order[0].issued() > t.lifetime {
		delete(t.entries, t.order[0])
		t.order = t.order[1:]
	}
}

func (t *replayTable) evictOldest(now int64) {
	id := t.order[0]
	delete(t.entries, id)
	t.order = t.order[1:]
	if issued := id.issued(); now-issued <= t.lifetime && issued > t.forgotten {
		t.forgotten = issued
	}
}
