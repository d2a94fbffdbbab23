package media

import (
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"
)

func TestSessionSymmetricRTP(t *testing.T) {
	ctx := testCtx(t)
	signalled, peer, stranger := udpConn(t), udpConn(t), udpConn(t)
	s := newTestSession(t, func(c *Config) { c.Remote = addrOf(signalled) })
	s.Start()

	// Before the peer sends, RTP goes to the signalled address.
	readRTP(t, ctx, signalled)

	// The peer sends from elsewhere (a NAT): once its stream is learned,
	// the session latches onto it. Nothing went to the peer before, so
	// this is the first packet it gets.
	learn(t, ctx, peer, s, 5, 1)
	readRTP(t, ctx, peer)

	// Someone else's RTP is ignored and counted, even a stream in
	// sequence: once latched, only the signalled address takes the latch.
	for i := range learnPackets {
		_, _ = stranger.WriteToUDPAddrPort(rtpPacket(0, uint16(i), 0, 6, false, make([]byte, 160)), s.LocalAddr())
	}
	// The peer's first learnPackets-1 packets, sent while it was being
	// learned, were ignored too.
	const ignored = learnPackets - 1 + learnPackets
	waitFor(t, ctx, "the stranger's packets ignored", func() bool { return s.Stats().Ignored == ignored })
	if st := s.Stats(); st.PacketsIn != 1 { // the peer's packet that latched
		t.Fatalf("PacketsIn = %d, want 1", st.PacketsIn)
	}
	s.mu.Lock()
	dst, _ := s.destination()
	s.mu.Unlock()
	if dst != addrOf(peer) {
		t.Fatalf("sending to %v, want the peer %v", dst, addrOf(peer))
	}
}

func TestSessionWaitsForPeerWhenRemoteUnspecified(t *testing.T) {
	ctx := testCtx(t)
	peer := udpConn(t)
	s := newTestSession(t, func(c *Config) { c.Remote = netip.MustParseAddrPort("0.0.0.0:0") })
	s.Start()
	// There is no signalled address to trust: the peer's stream is learned.
	learn(t, ctx, peer, s, 5, 1)
	h, _ := readRTP(t, ctx, peer)
	if !h.Marker || h.PayloadType != 0 {
		t.Fatalf("first packet %+v", h)
	}
}

func TestSessionDropsGarbage(t *testing.T) {
	ctx := testCtx(t)
	peer := udpConn(t)
	s := newTestSession(t, func(c *Config) { c.Remote = addrOf(peer) })
	s.Start()
	junk := [][]byte{
		{},
		{0x80},
		[]byte("INVITE sip:x SIP/2.0\r\n"),
		{0x40, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1}, // version 1
		rtpPacket(18, 1, 0, 1, false, make([]byte, 20)),    // G.729: not negotiated
		rtpPacket(101, 1, 0, 1, false, []byte{1}),          // short event
		{0xa0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 9},         // padding longer than the payload
		rtpPacket(0, 1, 0, 1, false, make([]byte, 481)),    // too big for the jitter buffer
		{0x81, 201, 0, 7, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0}, // RTCP receiver report
	}
	for _, p := range junk {
		if _, err := peer.WriteToUDPAddrPort(p, s.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	// The empty datagram counts as invalid too.
	waitFor(t, ctx, "garbage counted", func() bool {
		st := s.Stats()
		return st.Invalid == 7 && st.RTCP == 1 && st.JitterDrops == 1
	})
}

func TestSessionRTPTimeout(t *testing.T) {
	ctx := testCtx(t)
	s := newTestSession(t, func(c *Config) { c.RTPTimeout = 100 * time.Millisecond })
	s.Start()
	select {
	case <-s.Done():
	case <-ctx.Done():
		t.Fatal("no RTP timeout")
	}
	if !errors.Is(s.Err(), ErrRTPTimeout) {
		t.Fatalf("Err = %v", s.Err())
	}
	if _, err := s.ReadFrame(ctx, make([]int16, FrameSamples)); !errors.Is(err, ErrClosed) {
		t.Fatalf("ReadFrame err = %v", err)
	}
	for range s.DTMF() { // closed once the reader stops
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(s.Err(), ErrRTPTimeout) {
		t.Fatalf("Err after Close = %v", s.Err())
	}
}

func TestSessionTimeoutOnlyWhileReceiving(t *testing.T) {
	peer := udpConn(t)
	s := newTestSession(t, func(c *Config) { c.Remote, c.RTPTimeout, c.Direction = addrOf(peer), time.Second, SendOnly })
	now := time.Now()
	s.lastRx = now
	if _, _, _, stop := s.step(now.Add(time.Hour)); stop {
		t.Fatal("timed out while not expecting RTP")
	}
	// Receiving starts: the timeout counts from then. (The remote stays
	// the same, so it is the direction that restarts it.)
	if err := s.Update(Update{Remote: addrOf(peer), Codec: PCMU, DTMFPayloadType: 101, Direction: SendRecv}); err != nil {
		t.Fatal(err)
	}
	if _, _, _, stop := s.step(time.Now().Add(500 * time.Millisecond)); stop {
		t.Fatal("timed out early")
	}
	// RTP arriving resets it.
	s.receivePacket(rtpPacket(0, 1, 0, 1, false, nil), addrOf(peer), now.Add(2*time.Hour))
	if _, _, _, stop := s.step(now.Add(2*time.Hour + 999*time.Millisecond)); stop {
		t.Fatal("timed out despite RTP")
	}
	if _, _, _, stop := s.step(now.Add(2*time.Hour + time.Second)); !stop || !errors.Is(s.Err(), ErrRTPTimeout) {
		t.Fatalf("no timeout: stop %v, Err %v", stop, s.Err())
	}
}

// FuzzReceivePacket feeds arbitrary datagrams from two sources into the
// receive path and runs the packet clock: nothing may panic, and every
// datagram is counted exactly once.
func FuzzReceivePacket(f *testing.F) {
	f.Add([]byte{0x80, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xff, 0xff}, false)
	f.Add([]byte{0x80, 101, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 5, 0x8a, 0, 160}, false)
	f.Add([]byte{0x81, 200, 0, 1}, true)
	f.Add([]byte{0xbf, 0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, true)
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		f.Fatal(err)
	}
	s, err := NewSession(Config{Conn: conn, Codec: PCMU, DTMFPayloadType: 101})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	peers := [2]netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:4000"), netip.MustParseAddrPort("[::ffff:10.0.0.1]:4002")}
	now := time.Now()
	f.Fuzz(func(t *testing.T, pkt []byte, other bool) {
		before := s.Stats()
		from := peers[0]
		if other {
			from = peers[1]
		}
		s.receivePacket(pkt, from, now)
		s.step(now)
		after := s.Stats()
		counted := (after.PacketsIn - before.PacketsIn) + (after.Invalid - before.Invalid) +
			(after.RTCP - before.RTCP) + (after.Ignored - before.Ignored)
		if counted != 1 && (after.Invalid-before.Invalid != 1 || after.PacketsIn-before.PacketsIn != 1) {
			t.Fatalf("datagram counted %d times: before %+v after %+v", counted, before, after)
		}
	})
}

// The packet clock sends what came due while it could not run: a stalled
// sender catches up instead of losing packets for good (a time.Ticker
// drops the ticks its reader misses).
func TestSessionTickerCatchesUp(t *testing.T) {
	ctx := testCtx(t)
	peer := udpConn(t)
	s := newTestSession(t, func(c *Config) { c.Remote = addrOf(peer) })
	s.Start()
	readRTP(t, ctx, peer) // running
	// Hold the session lock for 3 packet times: the tick goroutine blocks
	// in step, as it would on a machine too busy to run it.
	s.mu.Lock()
	before := s.stats.PacketsOut
	stall := time.Now()
	time.Sleep(3 * DefaultPtime) // the stall under test, not a wait for an event
	s.mu.Unlock()
	// After the stall, packets sent must keep pace with wall-clock time.
	waitFor(t, ctx, "the sender to catch up", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		due := uint64(time.Since(stall) / DefaultPtime)
		return s.stats.PacketsOut-before >= due && due >= 3
	})
}
