package sip

import (
	"net/netip"
	"sync"
	"time"
)

// failLimiter blocks a source address for a while after repeated
// authentication failures, so that password guessing (svcrack and its
// kin) gets a handful of tries, not thousands. A blocked source gets the
// same refusal whatever it sends, the right password included, so the
// limiter leaks nothing either.
//
// Sources are IPv4 addresses or IPv6 /64 prefixes: one IPv6 host
// usually holds a whole /64 and could otherwise guess from a fresh
// address every few tries.
//
// The table is bounded: when it is full, expired entries go, and if none
// have expired an eighth of the unblocked ones make room, so a flood of
// spoofed sources costs bounded memory and amortised constant time.
type failLimiter struct {
	max    int           // failures within window that trigger a block
	window time.Duration // how long a failure counts
	block  time.Duration // how long a block lasts
	limit  int           // most sources tracked
	now    func() time.Time

	mu    sync.Mutex
	bySrc map[netip.Addr]*failRecord
}

type failRecord struct {
	failures     int
	windowStart  time.Time
	blockedUntil time.Time
	lastKey      string // the request that last failed, to skip its retransmissions
}

const maxTrackedSources = 10000

func newFailLimiter(max int, window, block time.Duration, now func() time.Time) *failLimiter {
	return &failLimiter{max: max, window: window, block: block, limit: maxTrackedSources, now: now,
		bySrc: make(map[netip.Addr]*failRecord)}
}

// limitKey is the unit a source is limited by.
func limitKey(src netip.Addr) netip.Addr {
	if src.Is6() && !src.Is4In6() {
		p, _ := src.Prefix(64)
		return p.Addr()
	}
	return src.Unmap()
}

// blocked reports whether src is blocked now.
func (l *failLimiter) blocked(src netip.Addr) bool {
	src = limitKey(src)
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.bySrc[src]
	return r != nil && l.now().Before(r.blockedUntil)
}

// fail records a failure from src of the request identified by key and
// reports whether it started a block. A retransmission of the request
// that failed last (the same key) is not counted again: without a
// response (drop mode) every retransmission of a mistyped password
// would otherwise count.
func (l *failLimiter) fail(src netip.Addr, key string) (startedBlock bool) {
	src = limitKey(src)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	r := l.bySrc[src]
	if r == nil {
		if len(l.bySrc) >= l.limit {
			l.evict(now)
		}
		r = &failRecord{windowStart: now}
		l.bySrc[src] = r
	}
	if now.Before(r.blockedUntil) || (key != "" && key == r.lastKey) {
		return false
	}
	r.lastKey = key
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
func (l *failLimiter) evict(now time.Time) {
	for src, r := range l.bySrc {
		end := r.windowStart.Add(l.window)
		if r.blockedUntil.After(end) {
			end = r.blockedUntil
		}
		if !end.After(now) {
			delete(l.bySrc, src)
		}
	}
	if len(l.bySrc) < l.limit {
		return
	}
	drop := max(l.limit/8, 1)
	for src, r := range l.bySrc {
		if drop == 0 {
			return
		}
		if !now.Before(r.blockedUntil) {
			delete(l.bySrc, src)
			drop--
		}
	}
	// Everything is blocked: the oldest blocks give way.
	for src := range l.bySrc {
		if drop == 0 {
			return
		}
		delete(l.bySrc, src)
		drop--
	}
}
