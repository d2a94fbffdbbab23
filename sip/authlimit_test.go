package sip

import (
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var (
	limA = netip.MustParseAddr("192.0.2.1")
	limB = netip.MustParseAddr("192.0.2.2")
)

// limAddr returns the i-th address of 10.0.0.0/8.
func limAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
}

// failN records n failures from src and returns how many started a block.
func failN(l *failLimiter[netip.Addr], src netip.Addr, n int) int {
	started := 0
	for range n {
		if l.fail(src, nextKey()) {
			started++
		}
	}
	return started
}

func TestFailLimiterBlocksAfterMaxFailures(t *testing.T) {
	clk := newFakeClock()
	l := newFailLimiter(3, time.Minute, 10*time.Minute, clk.now)
	for i := range 2 {
		if l.fail(limA, nextKey()) {
			t.Fatalf("failure %d started a block, want the 3rd to", i+1)
		}
		if l.blocked(limA) {
			t.Fatalf("blocked after %d failures, want after 3", i+1)
		}
		clk.advance(10 * time.Second)
	}
	if !l.fail(limA, nextKey()) {
		t.Fatal("3rd failure within the window did not start a block")
	}
	if !l.blocked(limA) {
		t.Fatal("not blocked after 3 failures")
	}
	if l.blocked(limB) {
		t.Error("another source is blocked too")
	}
	// An IPv6 source is its own.
	if l.blocked(netip.MustParseAddr("2001:db8::1")) {
		t.Error("an IPv6 source is blocked")
	}
}

func TestFailLimiterWindowResets(t *testing.T) {
	clk := newFakeClock()
	l := newFailLimiter(3, time.Minute, 10*time.Minute, clk.now)
	if failN(l, limA, 2) != 0 {
		t.Fatal("2 failures started a block")
	}
	clk.advance(time.Minute + time.Second) // the window is over
	if l.fail(limA, nextKey()) {
		t.Fatal("a failure after the window counted the old ones")
	}
	if l.blocked(limA) {
		t.Fatal("blocked after a failure in a new window")
	}
	// The new window counts from its first failure.
	clk.advance(30 * time.Second)
	if l.fail(limA, nextKey()) {
		t.Fatal("2nd failure of the new window started a block")
	}
	clk.advance(20 * time.Second)
	if !l.fail(limA, nextKey()) || !l.blocked(limA) {
		t.Fatal("3rd failure of the new window did not block")
	}

	// Exactly at the end of the window the failures still count.
	l = newFailLimiter(2, time.Minute, 10*time.Minute, clk.now)
	l.fail(limB, nextKey())
	clk.advance(time.Minute)
	if !l.fail(limB, nextKey()) {
		t.Error("2nd failure exactly one window later did not block")
	}
}

func TestFailLimiterBlockExpires(t *testing.T) {
	clk := newFakeClock()
	l := newFailLimiter(3, time.Minute, 10*time.Minute, clk.now)
	if failN(l, limA, 3) != 1 {
		t.Fatal("3 failures did not start exactly one block")
	}
	// Failures while blocked neither start another block nor extend it.
	clk.advance(9 * time.Minute)
	if failN(l, limA, 10) != 0 {
		t.Fatal("failures while blocked started a block")
	}
	if !l.blocked(limA) {
		t.Fatal("block ended before BlockFor")
	}
	clk.advance(time.Minute - time.Nanosecond)
	if !l.blocked(limA) {
		t.Fatal("block ended a nanosecond early")
	}
	clk.advance(time.Nanosecond)
	if l.blocked(limA) {
		t.Fatal("still blocked after BlockFor, though failures during the block should not extend it")
	}
	// After the block the source starts afresh: max failures again.
	if failN(l, limA, 2) != 0 || l.blocked(limA) {
		t.Fatal("blocked again before max failures after the block ended")
	}
	if !l.fail(limA, nextKey()) || !l.blocked(limA) {
		t.Fatal("not blocked again after max failures")
	}
}

// A block shorter than the window: failures before the block do not
// carry over into the time after it.
func TestFailLimiterShortBlock(t *testing.T) {
	clk := newFakeClock()
	l := newFailLimiter(2, 10*time.Minute, time.Minute, clk.now)
	failN(l, limA, 2)
	clk.advance(time.Minute)
	if l.blocked(limA) {
		t.Fatal("still blocked after BlockFor")
	}
	if l.fail(limA, nextKey()) {
		t.Fatal("one failure after the block blocked again")
	}
}

func TestFailLimiterMaxOne(t *testing.T) {
	clk := newFakeClock()
	l := newFailLimiter(1, time.Minute, time.Minute, clk.now)
	if !l.fail(limA, nextKey()) || !l.blocked(limA) {
		t.Fatal("MaxFailures 1: the first failure did not block")
	}
}

func TestFailLimiterTableBounded(t *testing.T) {
	clk := newFakeClock()
	l := newFailLimiter(3, time.Minute, 10*time.Minute, clk.now)
	l.limit = 50

	// A flood of one-off failures from many sources stays within the limit.
	for i := range 1000 {
		l.fail(limAddr(i), nextKey())
		if n := len(l.byKey); n > l.limit {
			t.Fatalf("%d sources tracked after %d, limit %d", n, i+1, l.limit)
		}
	}

	// A blocked source outlives the flood: its entry is relevant longest,
	// so spoofed sources cannot push it out and unblock it.
	failN(l, limA, 3)
	for i := range 1000 {
		l.fail(limAddr(1000+i), nextKey())
	}
	if !l.blocked(limA) {
		t.Fatal("a flood of other sources unblocked a blocked source")
	}
	if n := len(l.byKey); n > l.limit {
		t.Fatalf("%d sources tracked, limit %d", n, l.limit)
	}

	// Once everything has expired, the stale entries make room first: a
	// table's worth of new sources is tracked in full.
	clk.advance(11 * time.Minute)
	for i := range l.limit {
		l.fail(limAddr(5000+i), nextKey())
	}
	for i := range l.limit {
		if _, ok := l.byKey[limAddr(5000+i)]; !ok {
			t.Fatalf("new source %d was evicted while expired entries were kept", i)
		}
	}
	if l.blocked(limA) {
		t.Error("still blocked after BlockFor")
	}
}

// The default limit is what the type documents.
func TestFailLimiterDefaultLimit(t *testing.T) {
	l := newFailLimiter(5, time.Minute, time.Minute, time.Now)
	if l.limit != maxTrackedSources || l.limit <= 0 {
		t.Errorf("limit %d, want maxTrackedSources (%d)", l.limit, maxTrackedSources)
	}
}

func TestFailLimiterConcurrentUse(t *testing.T) {
	clk := newFakeClock()
	l := newFailLimiter(5, time.Minute, time.Minute, clk.now)
	l.limit = 64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				src := limAddr(g*1000 + i%100)
				l.fail(src, nextKey())
				l.blocked(src)
				if i%50 == 0 {
					clk.advance(time.Second)
				}
			}
		})
	}
	wg.Wait()
	if n := len(l.byKey); n > l.limit {
		t.Errorf("%d sources tracked, limit %d", n, l.limit)
	}
}

// BenchmarkFailLimiterFullTable measures a failure from a new source when
// the table is full of live entries: the case a flood of spoofed sources
// drives, with l.mu held throughout.
func BenchmarkFailLimiterFullTable(b *testing.B) {
	clk := newFakeClock()
	l := newFailLimiter(5, time.Minute, 10*time.Minute, clk.now)
	for i := range l.limit {
		l.fail(limAddr(i), nextKey())
	}
	b.ResetTimer()
	for i := range b.N {
		l.fail(limAddr(l.limit+i), nextKey())
	}
}

var keySeq atomic.Int64

// nextKey names a new failed request, as a client's next guess would be.
func nextKey() string { return fmt.Sprint(keySeq.Add(1)) }

func TestFailLimiterRetransmissionsCountOnce(t *testing.T) {
	clk := time.Unix(1000, 0)
	l := newFailLimiter(3, time.Minute, time.Minute, func() time.Time { return clk })
	src := netip.MustParseAddr("192.0.2.9")
	for range 10 {
		if l.fail(src, "call-1 1 INVITE") {
			t.Fatal("retransmissions of one failed request started a block")
		}
	}
	l.fail(src, "call-1 2 INVITE")
	if !l.fail(src, "call-1 3 INVITE") {
		t.Error("three distinct failures did not block")
	}
}

func TestFailLimiterIPv6ByPrefix(t *testing.T) {
	clk := time.Unix(1000, 0)
	l := newFailLimiter(2, time.Minute, time.Minute, func() time.Time { return clk })
	l.fail(netip.MustParseAddr("2001:db8:1:2::1"), nextKey())
	l.fail(netip.MustParseAddr("2001:db8:1:2::99"), nextKey())
	if !l.blocked(netip.MustParseAddr("2001:db8:1:2:ffff::7")) {
		t.Error("a fresh address in the same /64 is not blocked")
	}
	if l.blocked(netip.MustParseAddr("2001:db8:1:3::1")) {
		t.Error("another /64 is blocked")
	}
}
