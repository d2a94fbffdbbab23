package media

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"
)

// Tests of how symmetric RTP latches (trustSource): the signalled address
// is always trusted, any other source must first send learnPackets
// packets in sequence with one SSRC, and a stranger can never take a
// latched session.

// Addresses for the tests that drive the receive path by hand.
var (
	signalledAddr = netip.MustParseAddrPort("192.0.2.10:4000")    // what the SDP named
	natAddr       = netip.MustParseAddrPort("198.51.100.7:31000") // where a NATed caller's RTP comes from
	otherAddr     = netip.MustParseAddrPort("203.0.113.9:5004")   // a stranger
	unspecified   = netip.MustParseAddrPort("0.0.0.0:0")          // hold, or a caller that knows no address
	mappedNAT     = netip.MustParseAddrPort("[::ffff:198.51.100.7]:31000")
)

// rtpIn is one packet fed to the receive path.
type rtpIn struct {
	from netip.AddrPort
	seq  uint16
	ssrc uint32
}

// stream returns packets from from with one SSRC and the given sequence
// numbers.
func stream(from netip.AddrPort, ssrc uint32, seqs ...uint16) []rtpIn {
	out := make([]rtpIn, len(seqs))
	for i, seq := range seqs {
		out[i] = rtpIn{from, seq, ssrc}
	}
	return out
}

// concat joins packet lists.
func concat(ps ...[]rtpIn) []rtpIn {
	var out []rtpIn
	for _, p := range ps {
		out = append(out, p...)
	}
	return out
}

// level gives each source's audio its own loudness, so a frame played
// out tells whose packet it was.
func level(from netip.AddrPort) int {
	switch from {
	case signalledAddr:
		return 1
	case natAddr, mappedNAT:
		return 2
	default:
		return 3
	}
}

func TestSessionLatchRule(t *testing.T) {
	tests := []struct {
		name     string
		remote   netip.AddrPort // Config.Remote; signalledAddr if zero
		pkts     []rtpIn
		latch    netip.AddrPort // the source latched at the end; zero: none
		in       uint64         // Stats.PacketsIn
		ignored  uint64         // Stats.Ignored
		latchAt  int            // index of the packet that latches; -1: none
		noRemote bool           // remote is unusable: nothing is sent until a latch
	}{
		// A stranger that does not send a stream does not latch.
		{name: "one packet", pkts: stream(natAddr, 7, 1), ignored: 1, latchAt: -1},
		{name: "two packets", pkts: stream(natAddr, 7, 1, 2), ignored: 2, latchAt: -1},
		{name: "three packets", pkts: stream(natAddr, 7, 1, 2, 3), ignored: 3, latchAt: -1},
		{name: "four with a gap", pkts: stream(natAddr, 7, 1, 2, 4, 5), ignored: 4, latchAt: -1},
		{name: "four with a repeat", pkts: stream(natAddr, 7, 1, 2, 2, 3), ignored: 4, latchAt: -1},
		{name: "four reordered", pkts: stream(natAddr, 7, 1, 3, 2, 4), ignored: 4, latchAt: -1},
		{name: "four going backwards", pkts: stream(natAddr, 7, 4, 3, 2, 1), ignored: 4, latchAt: -1},
		{name: "four with one seq", pkts: stream(natAddr, 7, 5, 5, 5, 5), ignored: 4, latchAt: -1},
		{name: "four with changing SSRC", pkts: concat(stream(natAddr, 7, 1, 2), stream(natAddr, 8, 3, 4)), ignored: 4, latchAt: -1},
		{name: "four with a new SSRC each", pkts: concat(stream(natAddr, 1, 1), stream(natAddr, 2, 2), stream(natAddr, 3, 3), stream(natAddr, 4, 4)), ignored: 4, latchAt: -1},
		{name: "four from two ports", pkts: concat(stream(natAddr, 7, 1, 2), stream(netip.AddrPortFrom(natAddr.Addr(), natAddr.Port()+1), 7, 3, 4)), ignored: 4, latchAt: -1},

		{name: "three packets, remote unspecified", remote: unspecified, noRemote: true, pkts: stream(natAddr, 7, 1, 2, 3), ignored: 3, latchAt: -1},

		// A stream from a NAT is learned: the first learnPackets-1
		// packets are ignored, the next latches.
		{name: "four in sequence", pkts: stream(natAddr, 7, 1, 2, 3, 4), latch: natAddr, in: 1, ignored: 3, latchAt: 3},
		{name: "four across the wrap", pkts: stream(natAddr, 7, 65534, 65535, 0, 1), latch: natAddr, in: 1, ignored: 3, latchAt: 3},
		{name: "more after the latch", pkts: stream(natAddr, 7, 1, 2, 3, 4, 5, 6), latch: natAddr, in: 3, ignored: 3, latchAt: 3},
		{name: "learning starts again after a gap", pkts: stream(natAddr, 7, 1, 2, 3, 10, 11, 12, 13), latch: natAddr, in: 1, ignored: 6, latchAt: 6},
		{name: "learning starts again on a new SSRC", pkts: concat(stream(natAddr, 7, 1, 2, 3), stream(natAddr, 8, 4, 5, 6, 7)), latch: natAddr, in: 1, ignored: 6, latchAt: 6},
		{name: "a stray packet before the stream", pkts: concat(stream(otherAddr, 9, 100), stream(natAddr, 7, 1, 2, 3, 4)), latch: natAddr, in: 1, ignored: 4, latchAt: 4},
		{name: "four in sequence, remote unspecified", remote: unspecified, noRemote: true, pkts: stream(natAddr, 7, 1, 2, 3, 4), latch: natAddr, in: 1, ignored: 3, latchAt: 3},
		{name: "four in sequence, no remote", remote: netip.AddrPort{}, noRemote: true, pkts: stream(natAddr, 7, 1, 2, 3, 4), latch: natAddr, in: 1, ignored: 3, latchAt: 3},
		{name: "four in sequence, v4-mapped source", pkts: stream(mappedNAT, 7, 1, 2, 3, 4), latch: natAddr, in: 1, ignored: 3, latchAt: 3},

		// Sources are learned side by side: a stranger's packets do not
		// reset the caller's learning, and the first real stream wins.
		{
			name: "two sources interleaved",
			pkts: concat(stream(natAddr, 7, 1), stream(otherAddr, 9, 1), stream(natAddr, 7, 2), stream(otherAddr, 9, 2),
				stream(natAddr, 7, 3), stream(otherAddr, 9, 3), stream(natAddr, 7, 4), stream(otherAddr, 9, 4)),
			latch: natAddr, in: 1, ignored: 7, latchAt: 6,
		},
		{
			name: "a stranger spraying stray packets",
			pkts: concat(stream(natAddr, 7, 1), stream(otherAddr, 9, 5), stream(natAddr, 7, 2), stream(otherAddr, 10, 50),
				stream(natAddr, 7, 3), stream(otherAddr, 11, 500), stream(natAddr, 7, 4)),
			latch: natAddr, in: 1, ignored: 6, latchAt: 6,
		},

		// Once latched, a stranger is ignored, stream or not.
		{name: "stranger after a learned latch", pkts: concat(stream(natAddr, 7, 1, 2, 3, 4), stream(otherAddr, 9, 1, 2, 3, 4, 5)), latch: natAddr, in: 1, ignored: 8, latchAt: 3},
		{name: "stream after the signalled latch", pkts: concat(stream(signalledAddr, 5, 1), stream(natAddr, 7, 1, 2, 3, 4, 5)), latch: signalledAddr, in: 1, ignored: 5, latchAt: 0},

		// The signalled address is trusted at once, in any order, before
		// a latch; after one, it takes the latch back from a learned
		// source for good, but only with a stream of its own.
		{name: "signalled address", pkts: stream(signalledAddr, 5, 1), latch: signalledAddr, in: 1, latchAt: 0},
		{name: "signalled address, any sequence or SSRC", pkts: concat(stream(signalledAddr, 5, 9), stream(signalledAddr, 6, 3), stream(signalledAddr, 7, 1)), latch: signalledAddr, in: 3, latchAt: 0},
		{name: "signalled address takes the latch back", pkts: concat(stream(natAddr, 7, 1, 2, 3, 4), stream(signalledAddr, 5, 100, 101, 102, 103)), latch: signalledAddr, in: 2, ignored: 6, latchAt: 3},
		{name: "one packet spoofed from the signalled address", pkts: concat(stream(natAddr, 7, 1, 2, 3, 4), stream(signalledAddr, 5, 100), stream(natAddr, 7, 5)), latch: natAddr, in: 2, ignored: 4, latchAt: 3},
		{
			name:  "learned source cannot take it again",
			pkts:  concat(stream(natAddr, 7, 1, 2, 3, 4), stream(signalledAddr, 5, 100, 101, 102, 103), stream(natAddr, 7, 5, 6, 7, 8, 9)),
			latch: signalledAddr, in: 2, ignored: 11, latchAt: 3,
		},
		{name: "signalled address while learning", pkts: concat(stream(natAddr, 7, 1, 2, 3), stream(signalledAddr, 5, 1), stream(natAddr, 7, 4)), latch: signalledAddr, in: 1, ignored: 4, latchAt: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			remote := tt.remote
			if remote == (netip.AddrPort{}) && !tt.noRemote {
				remote = signalledAddr
			}
			// Depth 1: a packet accepted plays at the next packet time.
			s := newTestSession(t, func(c *Config) { c.Remote, c.JitterDepth = remote, 1 })
			now := time.Now()
			accepted := map[netip.AddrPort]bool{}
			frame := make([]int16, FrameSamples)
			latchAt := -1
			for i, p := range tt.pkts {
				before := s.Stats().PacketsIn
				s.receivePacket(rtpPacket(0, p.seq, uint32(p.seq)*FrameSamples, p.ssrc, false, constPayload(level(p.from), FrameSamples)), p.from, now)
				took := s.Stats().PacketsIn > before
				if took {
					accepted[unmap(p.from)] = true
				}
				if latchAt < 0 && latchedOnto(s).IsValid() {
					latchAt = i
				}
				// One packet time: the packet's audio plays if, and only
				// if, it was accepted, and RTP goes nowhere it was not
				// accepted from, save the signalled address.
				pkt, dst, _, _ := s.step(now)
				if _, err := s.ReadFrame(ctx, frame); err != nil {
					t.Fatal(err)
				}
				played := frame[0] == decoded(level(p.from)) && frame[FrameSamples-1] == frame[0]
				if played != took {
					t.Fatalf("packet %d %+v: accepted %v, played %v (sample %d)", i, p, took, played, frame[0])
				}
				if !took && frame[0] != 0 {
					t.Fatalf("packet %d %+v ignored, yet sample %d played", i, p, frame[0])
				}
				switch {
				case pkt == nil && !tt.noRemote:
					t.Fatalf("packet %d %+v: nothing sent", i, p)
				case pkt != nil && dst != remote && !accepted[dst]:
					t.Fatalf("packet %d %+v: RTP sent to %v, which was never accepted", i, p, dst)
				}
			}
			st := s.Stats()
			if got := latchedOnto(s); got != tt.latch || latchAt != tt.latchAt || st.PacketsIn != tt.in || st.Ignored != tt.ignored {
				t.Errorf("latched onto %v at packet %d, PacketsIn %d, Ignored %d; want %v at %d, %d, %d",
					got, latchAt, st.PacketsIn, st.Ignored, tt.latch, tt.latchAt, tt.in, tt.ignored)
			}
			if st.Invalid != 0 || st.Lost != 0 {
				t.Errorf("stats %+v", st)
			}
			pkt, dst, _, _ := s.step(now)
			want := tt.latch
			if !want.IsValid() {
				want = remote
			}
			switch {
			case tt.noRemote && !tt.latch.IsValid():
				if pkt != nil {
					t.Errorf("sent to %v with nowhere to send", dst)
				}
			case pkt == nil || dst != want:
				t.Errorf("sending to %v (packet %v), want %v", dst, pkt != nil, want)
			}
		})
	}
}

// TestSessionUpdateRestartsLearning checks that a new remote address
// forgets the source being learned, and the one learned, while an update
// that keeps the address keeps both.
func TestSessionUpdateRestartsLearning(t *testing.T) {
	newRemote := netip.MustParseAddrPort("192.0.2.20:4002")
	tests := []struct {
		name   string
		before int            // in-sequence packets from natAddr before the update
		remote netip.AddrPort // the update's
		after  int            // in-sequence packets after it until the latch; 0: latched throughout
		// Only a packet that latches, or comes after, is accepted.
		in, ignored uint64
	}{
		{"new remote while learning", learnPackets - 1, newRemote, learnPackets, 1, 2 * (learnPackets - 1)},
		{"same remote while learning", learnPackets - 1, signalledAddr, 1, 1, learnPackets - 1},
		{"new remote after a learned latch", learnPackets, newRemote, learnPackets, 2, 2 * (learnPackets - 1)},
		{"same remote after a learned latch", learnPackets, signalledAddr, 0, 1, learnPackets - 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestSession(t, func(c *Config) { c.Remote = signalledAddr })
			seq := feed(s, natAddr, 7, 1, tt.before)
			if err := s.Update(Update{Remote: tt.remote, Codec: PCMU, DTMFPayloadType: 101}); err != nil {
				t.Fatal(err)
			}
			for i := 0; i <= tt.after; i++ {
				if i > 0 {
					seq = feed(s, natAddr, 7, seq, 1) // the stream goes on in sequence
				}
				s.mu.Lock()
				dst, _ := s.destination()
				s.mu.Unlock()
				if latched := latchedOnto(s) == natAddr; latched != (i == tt.after) {
					t.Fatalf("after %d packets since the update: latched %v", i, latched)
				}
				if i < tt.after && dst != tt.remote {
					t.Fatalf("after %d packets since the update: sending to %v, want %v", i, dst, tt.remote)
				}
			}
			if st := s.Stats(); st.PacketsIn != tt.in || st.Ignored != tt.ignored {
				t.Fatalf("PacketsIn %d, Ignored %d; want %d, %d", st.PacketsIn, st.Ignored, tt.in, tt.ignored)
			}
		})
	}
}

// readSeqs reads RTP at c through the packet with sequence number last,
// and returns the sequence numbers read. A session's packets are numbered
// in sequence whoever they go to, so a gap is packets sent elsewhere.
func readSeqs(t *testing.T, ctx context.Context, c *net.UDPConn, last uint16) []uint16 {
	t.Helper()
	var seqs []uint16
	for {
		h, _ := readRTP(t, ctx, c)
		seqs = append(seqs, h.Sequence)
		if h.Sequence == last {
			return seqs
		}
	}
}

// nextBuilt returns the sequence number of the next packet s builds,
// given the sequence number of its first.
func nextBuilt(s *Session, first uint16) uint16 { return first + uint16(s.Stats().PacketsOut) }

// TestSessionStrangerCannotHijack runs a session over loopback: RTP from
// a stranger that is not a stream does not move where RTP goes, and its
// audio is not played; a stream does latch.
func TestSessionStrangerCannotHijack(t *testing.T) {
	tests := []struct {
		name  string
		pkts  []rtpIn // from is unused: they come from the stranger's socket
		latch bool
	}{
		{"one packet", stream(otherAddr, 6, 1), false},
		{"three packets", stream(otherAddr, 6, 1, 2, 3), false},
		{"four out of sequence", stream(otherAddr, 6, 1, 2, 4, 3), false},
		{"four with changing SSRC", concat(stream(otherAddr, 6, 1, 2, 3), stream(otherAddr, 60, 4)), false},
		{"four in sequence", stream(otherAddr, 6, 1, 2, 3, 4), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			signalled, stranger := udpConn(t), udpConn(t)
			// Depth 1: a packet accepted would play at the next packet time.
			s := newTestSession(t, func(c *Config) { c.Remote, c.JitterDepth = addrOf(signalled), 1 })
			s.Start()
			first, _ := readRTP(t, ctx, signalled)

			for _, p := range tt.pkts {
				pkt := rtpPacket(0, p.seq, uint32(p.seq)*FrameSamples, p.ssrc, false, constPayload(3, FrameSamples))
				if _, err := stranger.WriteToUDPAddrPort(pkt, s.LocalAddr()); err != nil {
					t.Fatal(err)
				}
			}
			var in, ignored uint64 = 0, uint64(len(tt.pkts))
			if tt.latch {
				in, ignored = 1, learnPackets-1
			}
			waitFor(t, ctx, "the packets counted", func() bool {
				st := s.Stats()
				return st.PacketsIn == in && st.Ignored == ignored
			})
			if tt.latch {
				readRTP(t, ctx, stranger) // a stream: it is the peer now
				return
			}
			// Every packet, through one built after the stranger's
			// packets were handled, went to the signalled address.
			last := nextBuilt(s, first.Sequence)
			for i, seq := range readSeqs(t, ctx, signalled, last) {
				if want := first.Sequence + 1 + uint16(i); seq != want {
					t.Fatalf("packet %d went elsewhere: got %d next", want, seq)
				}
			}
			// Every frame played so far, the last after the stranger's
			// packets were handled, is silence.
			done, cancel := context.WithCancel(ctx)
			cancel()
			frame := make([]int16, FrameSamples)
			for {
				if _, err := s.ReadFrame(done, frame); err != nil {
					break
				}
				if peak(frame) != 0 {
					t.Fatalf("the stranger's audio played: %v", frame[:4])
				}
			}
		})
	}
}

// TestSessionSignalledAddressTakesLatchBack runs a session over loopback:
// RTP goes to a learned NAT source until the signalled address sends, and
// to the signalled address after, whatever the NAT source sends.
func TestSessionSignalledAddressTakesLatchBack(t *testing.T) {
	ctx := testCtx(t)
	signalled, nat := udpConn(t), udpConn(t)
	s := newTestSession(t, func(c *Config) { c.Remote = addrOf(signalled) })
	s.Start()
	first, _ := readRTP(t, ctx, signalled)
	seq := learn(t, ctx, nat, s, 7, 1)
	toNAT, _ := readRTP(t, ctx, nat)

	// Once latched, the signalled address needs a stream of its own.
	for i := range learnPackets {
		if _, err := signalled.WriteToUDPAddrPort(rtpPacket(0, 500+uint16(i), 0, 5, false, make([]byte, FrameSamples)), s.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, ctx, "the latch back", func() bool { return latchedOnto(s) == addrOf(signalled) })
	// The NAT source's stream goes on, now ignored.
	for range learnPackets {
		if _, err := nat.WriteToUDPAddrPort(rtpPacket(0, seq, 0, 7, false, make([]byte, FrameSamples)), s.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		seq++
	}
	// Ignored: the NAT source while learned, the signalled address while
	// learned, and the NAT source's stream after it lost the latch.
	waitFor(t, ctx, "the NAT source ignored", func() bool { return s.Stats().Ignored == 3*learnPackets-2 })
	if st := s.Stats(); st.PacketsIn != 2 { // the NAT source's latching packet and the signalled one
		t.Fatalf("PacketsIn = %d, want 2", st.PacketsIn)
	}

	// The signalled address got the packets before the NAT source was
	// learned and, after one gap that holds what went to the NAT source,
	// every packet through one built after its last packets were handled.
	seqs := readSeqs(t, ctx, signalled, nextBuilt(s, first.Sequence))
	prev, gaps := first.Sequence, 0
	for _, q := range seqs {
		if q != prev+1 {
			gaps++
			if gaps > 1 || int16(toNAT.Sequence-prev) <= 0 || int16(q-toNAT.Sequence) <= 0 {
				t.Fatalf("signalled address got %d after %d; the NAT source got %d", q, prev, toNAT.Sequence)
			}
		}
		prev = q
	}
	if gaps != 1 {
		t.Fatalf("no gap for the packets sent to the NAT source: %v", seqs)
	}
}
