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
// The table is bounded: when it is full the entry closest to expiry
// makes room, so a flood of spoofed sources costs memory once, not
// without end.
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
}

const maxTrackedSources = 10000

func newFailLimiter(max int, window, block time.Duration, now func() time.Time) *failLimiter {
	return &failLimiter{max: max, window: window, block: block, limit: maxTrackedSources, now: now,
		bySrc: make(map[netip.Addr]*failRecord)}
}

// blocked reports whether src is blocked now.
func (l *failLimiter) blocked(src netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.bySrc[src]
	return r != nil && l.now().Before(r.blockedUntil)
}

// fail records a failure from src and reports whether it started a block.
func (l *failLimiter) fail(src netip.Addr) (startedBlock bool) {
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
	if now.Before(r.blockedUntil) {
		return false
	}
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

// evict drops every stale entry, or failing that the one whose relevance
// ends soonest. Called with l.mu held and the table full.
func (l *failLimiter) evict(now time.Time) {
	var victim netip.Addr
	var soonest time.Time
	for src, r := range l.bySrc {
		end := r.windowStart.Add(l.window)
		if r.blockedUntil.After(end) {
			end = r.blockedUntil
		}
		if !end.After(now) {
			delete(l.bySrc, src)
			continue
		}
		if soonest.IsZero() || end.Before(soonest) {
			victim, soonest = src, end
		}
	}
	if len(l.bySrc) >= l.limit {
		delete(l.bySrc, victim)
	}
}
