package media

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"
)

// Tests of Relay. Most relay one way, x to y, with only x started: its
// reader forwards, y's packet clock never runs, so y's clock stands still
// and every header y sends is known exactly, and a packet that arrives
// cannot have waited for a tick.

// relayLegs returns x and y, relayed and not started, each sending to its
// own loopback peer: px sends to x (x's signalled address, trusted at
// once), py is where y sends. editX and editY, if not nil, change the
// configs after that.
func relayLegs(t *testing.T, editX, editY func(*Config)) (x, y *Session, px, py *net.UDPConn, r *Relay) {
	t.Helper()
	px, py = udpConn(t), udpConn(t)
	x = newTestSession(t, func(c *Config) {
		c.Remote = addrOf(px)
		if editX != nil {
			editX(c)
		}
	})
	y = newTestSession(t, func(c *Config) {
		c.Remote = addrOf(py)
		if editY != nil {
			editY(c)
		}
	})
	r, err := NewRelay(x, y)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return x, y, px, py, r
}

// txState returns the header fields s's next packet will carry.
func txState(s *Session) (ssrc uint32, seq uint16, ts uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tx.ssrc, s.tx.seq, s.tx.ts
}

// pattern returns n octets that differ from packet to packet (k) and
// cover every value over a few packets.
func pattern(k, n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(k*97 + i*31)
	}
	return p
}

// sendTo sends one RTP packet from c to s.
func sendTo(t *testing.T, c *net.UDPConn, s *Session, pkt []byte) {
	t.Helper()
	if _, err := c.WriteToUDPAddrPort(pkt, s.LocalAddr()); err != nil {
		t.Fatal(err)
	}
}

// transcoded returns payload in codec from as the relay sends it in to:
// the same octets between codecs of one encoding (a decode and encode
// would change mu-law's negative zero, 0x7f, to 0xff), else each decoded
// and encoded again through the Codec API.
func transcoded(payload []byte, from, to Codec) []byte {
	if from.Name == to.Name {
		return payload
	}
	pcm := make([]int16, len(payload))
	from.Decode(pcm, payload)
	out := make([]byte, len(payload))
	to.Encode(out, pcm)
	return out
}

// TestRelayForwards sends a stream to x and checks y's peer gets it as
// y's own stream: y's SSRC, payload type and sequence numbers, the
// sender's timestamp spacing and markers moved onto y's clock, and the
// audio copied or converted between the laws.
func TestRelayForwards(t *testing.T) {
	tests := []struct {
		name  string
		from  Codec // x's
		to    Codec // y's
		dtmfY int
	}{
		{"PCMU to PCMU", PCMU, PCMU, 101},
		{"PCMA to PCMA", PCMA, PCMA, 101},
		{"PCMU to PCMA", PCMU, PCMA, 101},
		{"PCMA to PCMU", PCMA, PCMU, 101},
		{"PCMU to dynamic PCMU", PCMU, PCMU.WithPayloadType(96), 97},
		{"PCMA to dynamic PCMU", PCMA, PCMU.WithPayloadType(96), 97},
	}
	// The sender's stream: sequence numbers wrap, a pause of two packets
	// (silence suppression) keeps its length, a marker is copied.
	type in struct {
		seq    uint16
		ts     uint32
		marker bool
	}
	stream := []in{{65534, 4000, false}, {65535, 4160, false}, {0, 4320, false}, {1, 4960, true}, {2, 5120, false}}
	const ssrc = 0x5eed
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			x, y, px, py, _ := relayLegs(t,
				func(c *Config) { c.Codec = tt.from },
				func(c *Config) { c.Codec, c.DTMFPayloadType = tt.to, tt.dtmfY })
			x.Start()
			ySSRC, seq0, ts0 := txState(y)
			for i, p := range stream {
				sent := time.Now()
				sendTo(t, px, x, rtpPacket(tt.from.PayloadType, p.seq, p.ts, ssrc, p.marker, pattern(i, FrameSamples)))
				h, payload := readRTP(t, ctx, py)
				if i == 0 {
					t.Logf("relayed in %v, y's packet time is %v", time.Since(sent), y.ptime)
				}
				want := rtpHeader{
					Marker:      i == 0 || p.marker,
					PayloadType: tt.to.PayloadType,
					Sequence:    seq0 + uint16(i),
					Timestamp:   ts0 + p.ts - stream[0].ts,
					SSRC:        ySSRC,
				}
				if h != want {
					t.Fatalf("packet %d: header %+v, want %+v", i, h, want)
				}
				if w := transcoded(pattern(i, FrameSamples), tt.from, tt.to); !bytes.Equal(payload, w) {
					t.Fatalf("packet %d: payload % x\nwant % x", i, payload[:8], w[:8])
				}
			}
			n := uint64(len(stream))
			if st := y.Stats(); st.Relayed != n || st.PacketsOut != n || st.BytesOut != n*FrameSamples || st.RelayDropped != 0 || st.SendErrors != 0 {
				t.Errorf("y stats %+v", st)
			}
			if st := x.Stats(); st.PacketsIn != n || st.Relayed != 0 {
				t.Errorf("x stats %+v", st)
			}
			x.mu.Lock()
			pushed := x.rx.jb.Stats().Pushed
			x.mu.Unlock()
			if pushed != 0 {
				t.Errorf("x pushed %d packets into its jitter buffer while relaying", pushed)
			}
		})
	}
}

// TestTranscodeTables checks the PCMU<->PCMA tables against the Codec
// API for every code.
func TestTranscodeTables(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	got := make([]byte, 256)
	for _, p := range [][2]Codec{{PCMU, PCMA}, {PCMA, PCMU}, {PCMU, PCMU}, {PCMA, PCMA.WithPayloadType(99)}} {
		if n := transcode(got, all, p[0], p[1]); n != 256 || !bytes.Equal(got, transcoded(all, p[0], p[1])) {
			t.Errorf("%v to %v: %d bytes % x", p[0], p[1], n, got)
		}
	}
}

// TestRelayNewStream checks that when x's peer starts a new stream, by a
// new SSRC or a new codec, y's peer still sees one: same SSRC, sequence
// numbers in a row, and timestamps going on from y's clock, with the
// marker on the first packet of the new one.
func TestRelayNewStream(t *testing.T) {
	tests := []struct {
		name  string
		ssrc  uint32 // of the second stream
		codec Codec  // x's for the second stream
	}{
		{"new SSRC", 2, PCMU},
		{"new codec", 1, PCMA},
		{"new SSRC and codec", 2, PCMA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			x, y, px, py, _ := relayLegs(t, nil, nil)
			x.Start()
			ySSRC, seq0, ts0 := txState(y)
			var got []rtpHeader
			for i := range 3 {
				sendTo(t, px, x, rtpPacket(0, uint16(100+i), 1000+uint32(i)*FrameSamples, 1, false, pattern(i, FrameSamples)))
				h, _ := readRTP(t, ctx, py)
				got = append(got, h)
			}
			if tt.codec != PCMU {
				if err := x.Update(Update{Remote: addrOf(px), Codec: tt.codec, DTMFPayloadType: 101}); err != nil {
					t.Fatal(err)
				}
			}
			// Sequence and timestamps far from the first stream's.
			for i := range 3 {
				sendTo(t, px, x, rtpPacket(tt.codec.PayloadType, uint16(40000+i), 0xfffff000+uint32(i)*FrameSamples, tt.ssrc, false, pattern(i, FrameSamples)))
				h, payload := readRTP(t, ctx, py)
				if w := transcoded(pattern(i, FrameSamples), tt.codec, PCMU); !bytes.Equal(payload, w) {
					t.Fatalf("second stream packet %d: payload not %v as PCMU", i, tt.codec)
				}
				got = append(got, h)
			}
			// y's clock did not run; it caught up with what was relayed,
			// so the new stream goes on right after the old one.
			for i, h := range got {
				want := rtpHeader{Marker: i == 0 || i == 3, PayloadType: 0, Sequence: seq0 + uint16(i), Timestamp: ts0 + uint32(i)*FrameSamples, SSRC: ySSRC}
				if h != want {
					t.Errorf("packet %d: %+v, want %+v", i, h, want)
				}
			}
		})
	}
}

// TestRelayNewStreamOnRunningClock checks the offset taken for a new
// incoming stream when y's packet clock runs: the new stream starts at
// y's clock, not before the end of what was relayed.
func TestRelayNewStreamOnRunningClock(t *testing.T) {
	ctx := testCtx(t)
	x, y, px, py, _ := relayLegs(t, nil, nil)
	x.Start()
	y.Start()
	sendTo(t, px, x, rtpPacket(0, 1, 1000, 1, false, pattern(0, FrameSamples)))
	first, _ := readRTP(t, ctx, py)
	// A few packet times of y's clock go by.
	for range 3 {
		if _, err := y.ReadFrame(ctx, make([]int16, FrameSamples)); err != nil {
			t.Fatal(err)
		}
	}
	sendTo(t, px, x, rtpPacket(0, 9, 777, 2, false, pattern(1, FrameSamples)))
	h, _ := readRTP(t, ctx, py)
	_, _, clock := txState(y)
	if h.SSRC != first.SSRC || h.Sequence != first.Sequence+1 || !h.Marker {
		t.Fatalf("new stream %+v after %+v", h, first)
	}
	// At least the first packet's length on, at most y's clock now.
	if d := int32(h.Timestamp - first.Timestamp); d < FrameSamples || int32(clock-h.Timestamp) < 0 {
		t.Fatalf("new stream at %d, %d after the first; y's clock %d", h.Timestamp, d, clock)
	}
}

// telephoneEvent returns the payload of one RFC 4733 event.
func telephoneEvent(code uint8, end bool, dur uint16) []byte {
	b := make([]byte, TelephoneEventSize)
	TelephoneEvent{Event: code, End: end, Volume: 10, Duration: dur}.MarshalTo(b)
	return b
}

// TestRelayEvents sends a key press to x: y forwards it with its own
// telephone-event payload type, or drops it if it has none; x reports
// the key either way.
func TestRelayEvents(t *testing.T) {
	tests := []struct {
		name  string
		dtmfY int
	}{
		{"same payload type", 101},
		{"y's payload type", 100},
		{"y has no telephone-event", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			x, y, px, py, _ := relayLegs(t, nil, func(c *Config) { c.DTMFPayloadType = tt.dtmfY })
			x.Start()
			ySSRC, seq0, ts0 := txState(y)
			const evTS = 8000
			events := [][]byte{telephoneEvent(5, false, 160), telephoneEvent(5, false, 320), telephoneEvent(5, true, 480)}
			for i, ev := range events {
				sendTo(t, px, x, rtpPacket(101, uint16(10+i), evTS, 3, i == 0, ev))
			}
			select {
			case d := <-x.DTMF():
				if d != '5' {
					t.Fatalf("x reported %q", d)
				}
			case <-ctx.Done():
				t.Fatal("x reported no key")
			}
			if tt.dtmfY < 0 {
				waitFor(t, ctx, "the events dropped", func() bool { return y.Stats().RelayDropped == uint64(len(events)) })
				// Audio after them is the first packet y's peer gets.
				sendTo(t, px, x, rtpPacket(0, 13, evTS+480, 3, true, pattern(0, FrameSamples)))
				if h, _ := readRTP(t, ctx, py); h.PayloadType != 0 || h.Sequence != seq0 || h.Timestamp != ts0 {
					t.Fatalf("first packet out %+v, want the audio", h)
				}
				return
			}
			for i, ev := range events {
				h, payload := readRTP(t, ctx, py)
				want := rtpHeader{Marker: i == 0, PayloadType: uint8(tt.dtmfY), Sequence: seq0 + uint16(i), Timestamp: ts0, SSRC: ySSRC}
				if h != want || !bytes.Equal(payload, ev) {
					t.Fatalf("event %d: %+v % x, want %+v % x", i, h, payload, want, ev)
				}
			}
			// Audio of the same SSRC shares the events' offset.
			sendTo(t, px, x, rtpPacket(0, 13, evTS+480, 3, true, pattern(0, FrameSamples)))
			if h, _ := readRTP(t, ctx, py); h.PayloadType != 0 || h.Sequence != seq0+3 || h.Timestamp != ts0+480 || !h.Marker {
				t.Fatalf("audio after the events %+v", h)
			}
			if st := y.Stats(); st.Relayed != 4 || st.RelayDropped != 0 {
				t.Errorf("y stats %+v", st)
			}
		})
	}
}

// TestRelayCannotSend checks that y forwards nothing while it may not
// send, counts what it drops, and starts a talkspurt when it may again.
func TestRelayCannotSend(t *testing.T) {
	tests := []struct {
		name   string
		dir    Direction
		remote netip.AddrPort // y's; zero: its peer's
	}{
		{"recvonly", RecvOnly, netip.AddrPort{}},
		{"inactive", Inactive, netip.AddrPort{}},
		{"no address", SendRecv, netip.MustParseAddrPort("0.0.0.0:0")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			x, y, px, py, _ := relayLegs(t, nil, func(c *Config) {
				c.Direction = tt.dir
				if tt.remote.IsValid() {
					c.Remote = tt.remote
				}
			})
			x.Start()
			ySSRC, seq0, ts0 := txState(y)
			for i := range 3 {
				sendTo(t, px, x, rtpPacket(0, uint16(i), uint32(i)*FrameSamples, 4, false, pattern(i, FrameSamples)))
			}
			waitFor(t, ctx, "the packets dropped", func() bool { return y.Stats().RelayDropped == 3 })
			if err := y.Update(Update{Remote: addrOf(py), Codec: PCMU, DTMFPayloadType: 101}); err != nil {
				t.Fatal(err)
			}
			sendTo(t, px, x, rtpPacket(0, 3, 3*FrameSamples, 4, false, pattern(3, FrameSamples)))
			h, _ := readRTP(t, ctx, py)
			if want := (rtpHeader{Marker: true, Sequence: seq0, Timestamp: ts0, SSRC: ySSRC}); h != want {
				t.Fatalf("first packet out %+v, want %+v", h, want)
			}
			if st := y.Stats(); st.Relayed != 1 || st.PacketsOut != 1 || st.RelayDropped != 3 {
				t.Errorf("y stats %+v", st)
			}
		})
	}
}

// TestRelayOwnDigit drives y's packet clock by hand: relayed into, it
// sends nothing of its own but a key press, during which relayed audio
// is dropped, and the relayed audio after it starts a talkspurt.
func TestRelayOwnDigit(t *testing.T) {
	ctx := testCtx(t)
	x, y, px, py, _ := relayLegs(t, nil, nil)
	x.Start()
	ySSRC, seq0, _ := txState(y)
	seq := seq0
	// expect reads y's next packet and checks its sequence, payload type
	// and marker.
	expect := func(what string, pt uint8, marker bool) {
		t.Helper()
		h, _ := readRTP(t, ctx, py)
		if h.SSRC != ySSRC || h.Sequence != seq || h.PayloadType != pt || h.Marker != marker {
			t.Fatalf("%s: %+v, want seq %d pt %d marker %v", what, h, seq, pt, marker)
		}
		seq++
	}
	audio := func(i int) {
		sendTo(t, px, x, rtpPacket(0, uint16(i), uint32(i)*FrameSamples, 5, false, pattern(i, FrameSamples)))
	}

	audio(0)
	expect("relayed audio", 0, true)
	// The packet clock sends no audio or silence, but keeps time.
	_, _, ts := txState(y)
	if pkt, _, _, _ := y.step(time.Now()); pkt != nil {
		t.Fatalf("relayed into, the packet clock built % x", pkt)
	}
	if _, _, after := txState(y); after != ts+FrameSamples {
		t.Fatalf("clock at %d after a tick from %d", after, ts)
	}

	sent := make(chan error, 1)
	go func() { sent <- y.SendDTMF(ctx, '7', 60*time.Millisecond) }()
	waitFor(t, ctx, "SendDTMF to start", func() bool {
		y.mu.Lock()
		defer y.mu.Unlock()
		return y.digitEnd != nil
	})
	audio(1)
	audio(2)
	waitFor(t, ctx, "audio during the key press dropped", func() bool { return y.Stats().RelayDropped == 2 })
	for i := range 5 { // 60 ms at 20 ms: two updates and three end packets
		y.tick(time.Now())
		expect("own key press", 101, i == 0)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	audio(3)
	expect("relayed audio after the key press", 0, true)
	audio(4)
	expect("relayed audio", 0, false)
	if st := y.Stats(); st.Relayed != 3 || st.RelayDropped != 2 || st.DigitsOut != 1 || st.PacketsOut != 8 {
		t.Errorf("y stats %+v", st)
	}
}

// TestRelayBothWaysAndClose runs both legs with their packet clocks: a
// relayed leg sends only what the other leg's peer sent, both ways; after
// Close each sends its own packets again, as a new talkspurt of the same
// stream.
func TestRelayBothWaysAndClose(t *testing.T) {
	ctx := testCtx(t)
	x, y, px, py, r := relayLegs(t, nil, func(c *Config) { c.Codec = PCMA })
	x.Start()
	y.Start()
	// Let both packet clocks run a few packet times: frames for
	// ReadFrame come from them.
	frame := make([]int16, FrameSamples)
	for range 3 {
		for _, s := range []*Session{x, y} {
			if _, err := s.ReadFrame(ctx, frame); err != nil {
				t.Fatal(err)
			}
		}
	}
	const n = 4
	legs := []struct {
		name     string
		in, out  *Session // the peer sends to in; out sends to the other peer
		peer, to *net.UDPConn
		codec    Codec // in's
	}{
		{"x to y", x, y, px, py, PCMU},
		{"y to x", y, x, py, px, PCMA},
	}
	for _, l := range legs {
		for i := range n {
			sendTo(t, l.peer, l.in, rtpPacket(l.codec.PayloadType, uint16(i), uint32(i)*FrameSamples, 6, false, pattern(i, FrameSamples)))
		}
	}
	last := map[*Session]rtpHeader{}
	for _, l := range legs {
		ssrc, _, _ := txState(l.out)
		for i := range n {
			h, payload := readRTP(t, ctx, l.to)
			out := l.out.codec
			if h.SSRC != ssrc || !bytes.Equal(payload, transcoded(pattern(i, FrameSamples), l.codec, out)) {
				t.Fatalf("%s: packet %d is not the relayed one: %+v % x", l.name, i, h, payload[:4])
			}
			last[l.out] = h
		}
		if st := l.out.Stats(); st.PacketsOut != n || st.Relayed != n {
			t.Errorf("%s: stats %+v", l.name, st)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	for _, l := range legs {
		h, payload := readRTP(t, ctx, l.to)
		prev := last[l.out]
		silence := bytes.Repeat([]byte{l.out.codec.SilenceByte()}, FrameSamples)
		if h.SSRC != prev.SSRC || h.Sequence != prev.Sequence+1 || !h.Marker || !bytes.Equal(payload, silence) {
			t.Fatalf("%s: first own packet %+v after %+v", l.name, h, prev)
		}
		if d := int32(h.Timestamp - prev.Timestamp); d < FrameSamples {
			t.Fatalf("%s: own packet at %d, %d after the last relayed", l.name, h.Timestamp, d)
		}
	}
	// After the relay, x's peer's audio goes to x's jitter buffer again,
	// and no further to y.
	sendTo(t, px, x, rtpPacket(0, n, n*FrameSamples, 6, false, pattern(n, FrameSamples)))
	waitFor(t, ctx, "x to take its peer's audio", func() bool {
		x.mu.Lock()
		defer x.mu.Unlock()
		return x.rx.jb.Stats().Pushed == 1
	})
	if st := y.Stats(); st.Relayed != n {
		t.Errorf("y relayed %d after Close", st.Relayed)
	}
}

func TestNewRelayErrors(t *testing.T) {
	a := newTestSession(t, nil)
	b := newTestSession(t, nil)
	c := newTestSession(t, nil)
	ended := newTestSession(t, nil)
	_ = ended.Close()
	r, err := NewRelay(a, b)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		a, b *Session
		want error
	}{
		{"nil a", nil, c, ErrRelaySessions},
		{"nil b", c, nil, ErrRelaySessions},
		{"same session", c, c, ErrRelaySessions},
		{"a relayed", a, c, ErrRelayed},
		{"b relayed", c, b, ErrRelayed},
		{"the same pair again", b, a, ErrRelayed},
		{"ended", c, ended, ErrClosed},
	}
	for _, tt := range tests {
		if r2, err := NewRelay(tt.a, tt.b); !errors.Is(err, tt.want) || r2 != nil {
			t.Errorf("%s: %v, %v; want %v", tt.name, r2, err, tt.want)
		}
	}
	// Close is idempotent, and frees both sessions for another relay.
	_ = r.Close()
	_ = r.Close()
	r, err = NewRelay(c, a)
	if err != nil {
		t.Fatal(err)
	}
	_ = r.Close()
}

// TestRelaySessionClosed closes one leg and then the other while they
// are relayed: forwarding into an ended session does nothing, and the
// relay still closes after them.
func TestRelaySessionClosed(t *testing.T) {
	ctx := testCtx(t)
	x, y, px, py, r := relayLegs(t, nil, nil)
	x.Start()
	y.Start()
	sendTo(t, px, x, rtpPacket(0, 0, 0, 7, false, pattern(0, FrameSamples)))
	readRTP(t, ctx, py)
	if err := y.Close(); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < 4; i++ {
		sendTo(t, px, x, rtpPacket(0, uint16(i), uint32(i)*FrameSamples, 7, false, pattern(i, FrameSamples)))
	}
	waitFor(t, ctx, "x to take its peer's packets", func() bool { return x.Stats().PacketsIn == 4 })
	if st := y.Stats(); st.Relayed != 1 || st.RelayDropped != 0 || st.SendErrors != 0 {
		t.Errorf("y stats after close %+v", st)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestRelayCloseUnderTraffic closes the relay and both sessions while
// both peers send as fast as they can: no deadlock, no race, no
// goroutine left behind.
func TestRelayCloseUnderTraffic(t *testing.T) {
	ctx := testCtx(t)
	x, y, px, py, r := relayLegs(t, nil, nil)
	x.Start()
	y.Start()
	done := make(chan struct{})
	for _, l := range []struct {
		peer *net.UDPConn
		s    *Session
	}{{px, x}, {py, y}} {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 500 {
				pkt := rtpPacket(0, uint16(i), uint32(i)*FrameSamples, 8, false, pattern(i, FrameSamples))
				if _, err := l.peer.WriteToUDPAddrPort(pkt, l.s.LocalAddr()); err != nil {
					return
				}
			}
		}()
	}
	// Once traffic flows, close everything at once.
	readRTP(t, ctx, py)
	closed := make(chan struct{})
	for _, c := range []func() error{r.Close, x.Close, y.Close} {
		go func() {
			_ = c()
			closed <- struct{}{}
		}()
	}
	for range 3 {
		<-closed
	}
	for range 2 {
		<-done
	}
}

// TestRelayAllocatesNothing drives the forwarding path by hand: x's
// receive path to y's socket write, for audio copied or converted and
// for events.
func TestRelayAllocatesNothing(t *testing.T) {
	tests := []struct {
		name   string
		to     Codec
		pt     uint8
		length int
	}{
		{"copy", PCMU, 0, FrameSamples},
		{"transcode", PCMA, 0, FrameSamples},
		{"event", PCMU, 101, TelephoneEventSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, y, _ := relayBench(t, tt.to)
			pkt := rtpPacket(tt.pt, 0, 0, 42, false, pattern(0, tt.length))
			now := time.Now()
			i := 0
			allocs := testing.AllocsPerRun(100, func() {
				i++
				putRTPHeader(pkt, rtpHeader{PayloadType: tt.pt, Sequence: uint16(i), Timestamp: uint32(i) * FrameSamples, SSRC: 42})
				x.receivePacket(pkt, benchRemote, now)
			})
			if allocs != 0 {
				t.Errorf("%v allocs a packet", allocs)
			}
			if st := y.Stats(); st.Relayed != uint64(i) || st.SendErrors != 0 {
				t.Errorf("y stats %+v after %d packets", st, i)
			}
		})
	}
}

// relayBench returns x and y, relayed and not started, for driving x's
// receive path by hand: x takes packets from benchRemote, in PCMU with
// telephone-event 101, and y, in codec to, sends to a loopback socket
// that a goroutine drains until cleanup.
func relayBench(tb testing.TB, to Codec) (x, y *Session, r *Relay) {
	tb.Helper()
	sink := udpConnB(tb)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		buf := make([]byte, readBufferSize)
		for {
			if _, _, err := sink.ReadFromUDPAddrPort(buf); err != nil {
				return // closed at cleanup
			}
		}
	}()
	tb.Cleanup(func() {
		_ = sink.Close()
		<-drained
	})
	newSession := func(cfg Config) *Session {
		s, err := NewSession(cfg)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = s.Close() })
		return s
	}
	x = newSession(Config{Conn: udpConnB(tb), Remote: benchRemote, Codec: PCMU, DTMFPayloadType: 101})
	y = newSession(Config{Conn: udpConnB(tb), Remote: addrOf(sink), Codec: to, DTMFPayloadType: 101})
	r, err := NewRelay(x, y)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = r.Close() })
	return x, y, r
}
