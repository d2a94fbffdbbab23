package media

import (
	"testing"
	"time"
)

// BenchmarkRelay measures one 20 ms PCMU packet through a relay into a
// PCMU leg: x's receive path (parse, checks, latching, stats), then the
// forward: y's header, the payload copied, and the write to y's socket.
// The kernel send to a loopback socket is included; the kernel read on x
// is not (the packet is handed to receivePacket), nor is the goroutine
// draining the sink, which runs beside the benchmark.
func BenchmarkRelay(b *testing.B) { benchRelay(b, PCMU) }

// BenchmarkRelayTranscode is BenchmarkRelay into a PCMA leg: the payload
// is converted byte by byte instead of copied.
func BenchmarkRelayTranscode(b *testing.B) { benchRelay(b, PCMA) }

func benchRelay(b *testing.B, to Codec) {
	x, y, _ := relayBench(b, to)
	pkt := rtpPacket(0, 0, 0, 42, false, constPayload(3, FrameSamples))
	now := time.Now()
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	for i := 0; b.Loop(); i++ {
		putRTPHeader(pkt, rtpHeader{Sequence: uint16(i), Timestamp: uint32(i) * FrameSamples, SSRC: 42})
		x.receivePacket(pkt, benchRemote, now)
	}
	if st := y.Stats(); st.Relayed == 0 || st.RelayDropped != 0 || st.SendErrors != 0 {
		b.Fatalf("y stats %+v", st)
	}
}
