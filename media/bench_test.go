package media

import (
	"net/netip"
	"testing"
	"time"
)

// BenchmarkReceivePath measures one 20 ms packet through the session's
// receive path: parse, checks and latching, jitter buffer push, then the
// packet clock's pop, decode and hand-off to the frame queue. The packets
// come from the signalled address, as in a call without NAT, so every
// one is accepted; none is spent learning the source.
func BenchmarkReceivePath(b *testing.B) {
	s := benchSession(b)
	from := benchRemote
	pkt := rtpPacket(0, 0, 0, 42, false, constPayload(3, FrameSamples))
	now := time.Now()
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	for i := 0; b.Loop(); i++ {
		putRTPHeader(pkt, rtpHeader{Sequence: uint16(i), Timestamp: uint32(i) * FrameSamples, SSRC: 42})
		s.receivePacket(pkt, from, now)
		s.mu.Lock()
		s.receiveAudio(FrameSamples)
		s.mu.Unlock()
	}
	if st := s.Stats(); st.Lost != 0 || st.Invalid != 0 || st.Ignored != 0 {
		b.Fatalf("stats %+v", st)
	}
}

// BenchmarkSendPath measures building one 20 ms packet on the packet
// clock: take 160 samples from the playout queue, encode, marshal.
func BenchmarkSendPath(b *testing.B) {
	s := benchSession(b)
	pcm := sine(FrameSamples, 0, 440, 8000)
	b.ReportAllocs()
	for b.Loop() {
		s.mu.Lock()
		s.playout.write(pcm)
		pkt, _ := s.nextPacket(FrameSamples)
		s.mu.Unlock()
		if len(pkt) != rtpHeaderSize+FrameSamples {
			b.Fatal(len(pkt))
		}
	}
}

// BenchmarkStep measures a whole packet time of the packet clock with
// nothing received: concealment or silence out, one packet in.
func BenchmarkStep(b *testing.B) {
	s := benchSession(b)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		s.step(now)
	}
}

func BenchmarkParseRTP(b *testing.B) {
	pkt := rtpPacket(0, 1, 160, 42, false, make([]byte, FrameSamples))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := parseRTP(pkt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkJitterPushPop(b *testing.B) {
	j := NewJitterBuffer(DefaultJitterDepth, DefaultJitterCapacity)
	payload := make([]byte, FrameSamples)
	dst := make([]byte, MaxPayloadSize)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		j.Push(uint16(i), uint32(i)*FrameSamples, payload)
		j.Pop(dst)
	}
}

func BenchmarkCodec(b *testing.B) {
	pcm := sine(FrameSamples, 0, 440, 8000)
	enc := make([]byte, FrameSamples)
	for _, c := range Codecs {
		b.Run(c.Name+"/Encode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.Encode(enc, pcm)
			}
		})
		b.Run(c.Name+"/Decode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.Decode(pcm, enc)
			}
		})
	}
}

// benchRemote is the benchmark sessions' signalled remote address, a port
// nobody reads.
var benchRemote = netip.MustParseAddrPort("127.0.0.1:9")

// benchSession returns an unstarted session that sends to benchRemote;
// the benchmarks call its per-packet functions directly.
func benchSession(b *testing.B) *Session {
	b.Helper()
	conn := udpConnB(b)
	s, err := NewSession(Config{Conn: conn, Remote: benchRemote, Codec: PCMU, DTMFPayloadType: 101})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}
