package sip

import (
	"net/netip"
	"sync"
	"time"
)

// failLimiter blocks a key (a source address, a user name) for a while
// after repeated authentication failures, so that password guessing
// (svcrack and its kin) gets a handful of tries, not thousands. A blocked
// key gets the same refusal whatever it sends, the right password
// included, so the limiter leaks nothing either.
//
// The table is bounded: when it is full, expired entries go, and if none
// have expired an eighth of the unblocked ones make room, so a flood of
// spoofed sources costs bounded memory and amortised constant time.
// Blocks are never evicted: with a table full of blocks, new keys go
// untracked until one expires (the user-name limiter still catches a
// guesser spread over many addresses).
type failLimiter[K comparable] struct {
	max       int           // failures within window that trigger a block
	window    time.Duration // how long a failure counts
	block     time.Duration // how long a block lasts
	limit     int           // most keys tracked
	now       func() time.Time
	normalize func(K) K // the unit limited, e.g. an IPv6 /64; nil: the key itself

	mu    sync.Mutex
	byKey map[K]*failRecord
}

type failRecord struct {
	failures     int
	windowStart  time.Time
	blockedUntil time.Time
	lastKey      string // the request that last failed, to skip its retransmissions
}

const maxTrackedSources = 10000

// newFailLimiter limits source addresses: IPv4 addresses or IPv6 /64
// prefixes, since one IPv6 host usually holds a whole /64 and could
// otherwise guess from a fresh address every few tries.
func newFailLimiter(max int, window, block time.Duration, now func() time.Time) *failLimiter[netip.Addr] {
	l := newKeyLimiter[netip.Addr](max, window, block, now)
	l.normalize = limitKey
	return l
}

func newKeyLimiter[K comparable](max int, window, block time.Duration, now func() time.Time) *failLimiter[K] {
	return &failLimiter[K]{max: max, window: window, block: block, limit: maxTrackedSources, now: now,
		byKey: make(map[K]*failRecord)}
}

// limitKey is the unit a source is limited by.
func limitKey(src netip.Addr) netip.Addr {
	if src.Is6() && !src.Is4In6() {
		p, _ := src.Prefix(64)
		return p.Addr()
	}
	return src.Unmap()
}

// blocked reports whether key is blocked now.
func (l *failLimiter[K]) blocked(key K) bool {
	if l.normalize != nil {
		key = l.normalize(key)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.byKey[key]
	return r != nil && l.now().Before(r.blockedUntil)
}

// fail records a failure for key of the attempt identified by attempt
// and reports whether it started a block. A retransmission of the
// attempt that failed last is not counted again: without a response
// (drop mode) every retransmission of a mistyped password would
// otherwise count. attempt must change with every guess (it includes
// the credentials), or a guesser could repeat one attempt name for ever.
func (l *failLimiter[K]) fail(key K, attempt string) (startedBlock bool) {
	if l.normalize != nil {
		key = l.normalize(key)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	r := l.byKey[key]
	if r == nil {
		if len(l.byKey) >= l.limit {
			l.evict(now)
			if len(l.byKey) >= l.limit {
				return false // all blocked; see the type's comment
			}
		}
		r = &failRecord{windowStart: now}
		l.byKey[key] = r
	}
	if now.Before(r.blockedUntil) || (attempt != "" && attempt == r.lastKey) {
		return false
	}
	r.lastKey = attempt
	if now.Sub(r.windowStart) > l.window {
		r.failures, r.windowStart = 0, now
	}
	r.failures++
	if r.failures < l.max {
		return false
	}
	r.failures, r.windowStart, r.blockedUntil = 0, now, now.Add(l.block)
	return true
}

// evict drops every stale entry and, if that frees nothing, an eighth of
// the unblocked entries (which ones is up to map order: none has a claim
// over another). Called with l.mu held and the table full.
func (l *failLimiter[K]) evict(now time.Time) {
	for k, r := range l.byKey {
		end := r.windowStart.Add(l.window)
		if r.blockedUntil.After(end) {
			end = r.blockedUntil
		}
		if !end.After(now) {
			delete(l.byKey, k)
		}
	}
	if len(l.byKey) < l.limit {
		return
	}
	drop := max(l.limit/8, 1)
	for k, r := range l.byKey {
		if drop == 0 {
			return
		}
		if !now.Before(r.blockedUntil) {
			delete(l.byKey, k)
			drop--
		}
	}
}
