package media

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"
)

// testCtx bounds a test.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func udpConn(t *testing.T) *net.UDPConn { return udpConnB(t) }

func udpConnB(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func addrOf(c *net.UDPConn) netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }

// newTestSession returns an unstarted PCMU session with telephone-event
// as payload type 101, changed by edit, closed at cleanup.
func newTestSession(t *testing.T, edit func(*Config)) *Session {
	t.Helper()
	cfg := Config{Conn: udpConn(t), Codec: PCMU, DTMFPayloadType: 101}
	if edit != nil {
		edit(&cfg)
	}
	s, err := NewSession(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func rtpPacket(pt uint8, seq uint16, ts, ssrc uint32, marker bool, payload []byte) []byte {
	b := make([]byte, rtpHeaderSize+len(payload))
	putRTPHeader(b, rtpHeader{Marker: marker, PayloadType: pt, Sequence: seq, Timestamp: ts, SSRC: ssrc})
	copy(b[rtpHeaderSize:], payload)
	return b
}

// readRTP reads the next RTP packet arriving at c.
func readRTP(t *testing.T, ctx context.Context, c *net.UDPConn) (rtpHeader, []byte) {
	t.Helper()
	dl, _ := ctx.Deadline()
	_ = c.SetReadDeadline(dl)
	buf := make([]byte, 1500)
	n, _, err := c.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatalf("no RTP: %v", err)
	}
	h, p, err := parseRTP(buf[:n])
	if err != nil {
		t.Fatal(err)
	}
	return h, p
}

// waitFor polls cond until it holds; each poll waits for a packet time.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

// learn sends learnPackets packets in sequence with one SSRC from peer,
// as a caller behind NAT, whose SDP names some other address, starts its
// stream, and waits until s latches onto peer. It returns the sequence
// number the peer's stream goes on with.
func learn(t *testing.T, ctx context.Context, peer *net.UDPConn, s *Session, ssrc uint32, firstSeq uint16) uint16 {
	t.Helper()
	seq := firstSeq
	for range learnPackets {
		pkt := rtpPacket(0, seq, uint32(seq)*FrameSamples, ssrc, seq == firstSeq, make([]byte, FrameSamples))
		if _, err := peer.WriteToUDPAddrPort(pkt, s.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		seq++
	}
	waitFor(t, ctx, "latch onto "+addrOf(peer).String(), func() bool { return latchedOnto(s) == addrOf(peer) })
	return seq
}

// feed hands n packets of a stream, in sequence from seq, to s's receive
// path as if they came from from, and returns the next sequence number.
func feed(s *Session, from netip.AddrPort, ssrc uint32, seq uint16, n int) uint16 {
	for range n {
		s.receivePacket(rtpPacket(0, seq, uint32(seq)*FrameSamples, ssrc, false, make([]byte, FrameSamples)), from, time.Now())
		seq++
	}
	return seq
}

// latchedOnto returns the source s has latched onto, or the zero address.
func latchedOnto(s *Session) netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.latched {
		return netip.AddrPort{}
	}
	return s.source
}

func TestNewSessionValidates(t *testing.T) {
	conn := udpConn(t)
	good := Config{Conn: conn, Codec: PCMU, DTMFPayloadType: -1}
	tests := []struct {
		name string
		edit func(*Config)
	}{
		{"no conn", func(c *Config) { c.Conn = nil }},
		{"no codec", func(c *Config) { c.Codec = Codec{} }},
		{"unknown codec", func(c *Config) { c.Codec = Codec{Name: "G729", PayloadType: 18, ClockRate: 8000} }},
		{"dtmf pt is the codec's", func(c *Config) { c.DTMFPayloadType = 0 }},
		{"dtmf pt too big", func(c *Config) { c.DTMFPayloadType = 128 }},
		{"dtmf pt negative", func(c *Config) { c.DTMFPayloadType = -2 }},
		{"ptime short", func(c *Config) { c.Ptime = 5 * time.Millisecond }},
		{"ptime long", func(c *Config) { c.Ptime = 80 * time.Millisecond }},
		{"ptime fraction", func(c *Config) { c.Ptime = 20*time.Millisecond + 1 }},
		{"direction", func(c *Config) { c.Direction = 7 }},
		{"jitter depth", func(c *Config) { c.JitterDepth = 51 }},
		{"timeout", func(c *Config) { c.RTPTimeout = -time.Second }},
	}
	for _, tt := range tests {
		cfg := good
		tt.edit(&cfg)
		if _, err := NewSession(cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: err = %v, want ErrInvalidConfig", tt.name, err)
		}
	}
	s, err := NewSession(good)
	if err != nil {
		t.Fatal(err)
	}
	if s.ptime != DefaultPtime || s.LocalAddr() != addrOf(conn) {
		t.Fatalf("ptime %v, local %v", s.ptime, s.LocalAddr())
	}
	_ = s.Close()
}

func TestSessionClose(t *testing.T) {
	ctx := testCtx(t)
	s := newTestSession(t, nil)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	s.Start() // does nothing now
	if _, ok := <-s.DTMF(); ok {
		t.Fatal("DTMF channel open")
	}
	<-s.Done()
	if !errors.Is(s.Err(), ErrClosed) {
		t.Fatalf("Err = %v", s.Err())
	}
	if _, err := s.ReadFrame(ctx, make([]int16, FrameSamples)); !errors.Is(err, ErrClosed) {
		t.Errorf("ReadFrame: %v", err)
	}
	if err := s.Write(ctx, make([]int16, 10)); !errors.Is(err, ErrClosed) {
		t.Errorf("Write: %v", err)
	}
	if err := s.WaitPlayed(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("WaitPlayed: %v", err)
	}
	if err := s.SendDTMF(ctx, '1', 0); !errors.Is(err, ErrClosed) {
		t.Errorf("SendDTMF: %v", err)
	}
}

func TestSessionCloseWakesBlockedCalls(t *testing.T) {
	ctx := testCtx(t)
	s := newTestSession(t, nil) // never started: nothing would ever wake them
	if err := s.Write(ctx, make([]int16, queueSamples)); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 3)
	go func() { _, err := s.ReadFrame(ctx, make([]int16, FrameSamples)); errs <- err }()
	go func() { errs <- s.Write(ctx, make([]int16, 10)) }()
	go func() { errs <- s.WaitPlayed(ctx) }()
	_ = s.Close()
	for range 3 {
		if err := <-errs; !errors.Is(err, ErrClosed) {
			t.Errorf("err = %v, want ErrClosed", err)
		}
	}
}

func TestSessionUpdate(t *testing.T) {
	a, b := udpConn(t), udpConn(t)
	s := newTestSession(t, func(c *Config) { c.Remote = addrOf(a) })
	if err := s.Update(Update{Codec: PCMU, DTMFPayloadType: 0}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("bad update: %v", err)
	}
	dest := func() netip.AddrPort {
		s.mu.Lock()
		defer s.mu.Unlock()
		d, _ := s.destination()
		return d
	}
	// The peer's RTP comes from b, not a (a NAT): once its stream is
	// learned, the session latches onto b.
	seq := feed(s, addrOf(b), 1, 1, learnPackets)
	if dest() != addrOf(b) {
		t.Fatal("not latched")
	}
	// Same remote: stay latched. New codec: PCMU is no longer accepted.
	if err := s.Update(Update{Remote: addrOf(a), Codec: PCMA, DTMFPayloadType: -1, Ptime: 40 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if dest() != addrOf(b) {
		t.Fatal("unlatched by an update with the same remote")
	}
	s.receivePacket(rtpPacket(0, seq, 0, 1, false, nil), addrOf(b), time.Now())
	if st := s.Stats(); st.Invalid != 1 {
		t.Fatalf("PCMU after switching to PCMA: %+v", st)
	}
	p, _, period, _ := s.step(time.Now())
	if h, payload, _ := parseRTP(p); h.PayloadType != 8 || len(payload) != 320 || period != 40*time.Millisecond {
		t.Fatalf("after update: %+v, %d bytes, period %v", h, len(payload), period)
	}
	// New remote: unlatch and send there until the peer is heard from.
	c := udpConn(t)
	if err := s.Update(Update{Remote: addrOf(c), Codec: PCMA, DTMFPayloadType: -1}); err != nil {
		t.Fatal(err)
	}
	if dest() != addrOf(c) {
		t.Fatalf("sending to %v after a new remote", dest())
	}
	// b must be learned afresh (see TestSessionUpdateRestartsLearning).
	s.receivePacket(rtpPacket(8, seq+1, 0, 1, false, nil), addrOf(b), time.Now())
	if dest() != addrOf(c) {
		t.Fatalf("sending to %v after one packet from the old source", dest())
	}
}
