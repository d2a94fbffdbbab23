package media

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// TestSessionAudioFlows sends a tone from one session to another over
// loopback and checks it arrives whole, frame by frame, as G.711 leaves it.
func TestSessionAudioFlows(t *testing.T) {
	for _, codec := range Codecs {
		t.Run(codec.Name, func(t *testing.T) {
			ctx := testCtx(t)
			ca, cb := udpConn(t), udpConn(t)
			a := newTestSession(t, func(c *Config) { c.Conn, c.Remote, c.Codec = ca, addrOf(cb), codec })
			b := newTestSession(t, func(c *Config) { c.Conn, c.Remote, c.Codec = cb, addrOf(ca), codec })
			a.Start()
			b.Start()

			const frames = 25
			tone := sine(frames*FrameSamples, 0, 440, 10000)
			if err := a.Write(ctx, tone); err != nil {
				t.Fatal(err)
			}
			// Read until the tone has come and gone. Each loud frame must be
			// the next chunk of the tone as G.711 leaves it; a loaded machine
			// may stall a ticker long enough for the jitter buffer to trim a
			// packet, so up to two chunks may be missing.
			enc := make([]byte, FrameSamples)
			want := make([]int16, FrameSamples)
			frame := make([]int16, FrameSamples)
			next, matched, quiet := 0, 0, 0
			for matched == 0 || quiet < 10 {
				if _, err := b.ReadFrame(ctx, frame); err != nil {
					t.Fatalf("after %d frames: %v", matched, err)
				}
				if peak(frame) < 100 {
					quiet++
					continue
				}
				quiet = 0
				found := false
				for ; next < frames && !found; next++ {
					x := tone[next*FrameSamples : (next+1)*FrameSamples]
					codec.Encode(enc, x)
					codec.Decode(want, enc)
					found = slices.Equal(frame, want)
					for j := range frame {
						if found && abs(int(frame[j])-int(x[j])) > g711Tolerance(x[j]) {
							t.Fatalf("chunk %d sample %d: %d, sent %d", next, j, frame[j], x[j])
						}
					}
				}
				if !found {
					t.Fatalf("frame %d is no later chunk of the tone", matched)
				}
				matched++
			}
			if matched < frames-2 {
				t.Fatalf("%d of %d frames arrived", matched, frames)
			}
			if err := a.WaitPlayed(ctx); err != nil {
				t.Fatal(err)
			}
			if st := b.Stats(); st.PacketsIn < frames || st.Invalid != 0 {
				t.Errorf("receiver stats %+v", st)
			}
		})
	}
}

func peak(f []int16) int {
	m := 0
	for _, x := range f {
		m = max(m, abs(int(x)))
	}
	return m
}

func TestSessionDTMF(t *testing.T) {
	ctx := testCtx(t)
	ca, cb := udpConn(t), udpConn(t)
	a := newTestSession(t, func(c *Config) { c.Conn, c.Remote = ca, addrOf(cb) })
	b := newTestSession(t, func(c *Config) { c.Conn, c.Remote = cb, addrOf(ca) })
	a.Start()
	b.Start()
	for _, d := range "5#" {
		if err := a.SendDTMF(ctx, d, 60*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	var got []rune
	for len(got) < 2 {
		select {
		case d := <-b.DTMF():
			got = append(got, d)
		case <-ctx.Done():
			t.Fatalf("got %q", string(got))
		}
	}
	if string(got) != "5#" {
		t.Fatalf("got %q, want \"5#\"", string(got))
	}
	if a.Stats().DigitsOut != 2 {
		t.Errorf("DigitsOut = %d", a.Stats().DigitsOut)
	}
	_ = b.Close()
	for d := range b.DTMF() { // closed by Close; nothing more arrived
		t.Errorf("extra digit %q", d)
	}
	if b.Stats().DigitsIn != 2 {
		t.Errorf("DigitsIn = %d", b.Stats().DigitsIn)
	}
}

// TestSessionPacketClock drives the packet clock by hand and checks the
// stream: marker bits, continuous sequence numbers, and timestamps that
// advance every packet time, sent or not.
func TestSessionPacketClock(t *testing.T) {
	ctx := testCtx(t)
	peer := udpConn(t)
	s := newTestSession(t, func(c *Config) { c.Remote = addrOf(peer) })
	now := time.Now()
	type pkt struct {
		marker bool
		loud   bool
		dts    uint32 // timestamp minus the first's
		dseq   uint16
	}
	var first rtpHeader
	var got []pkt
	step := func() {
		p, dst, _, _ := s.step(now)
		if p == nil {
			got = append(got, pkt{})
			return
		}
		if dst != addrOf(peer) {
			t.Fatalf("sent to %v", dst)
		}
		h, payload, _ := parseRTP(p)
		if len(got) == 0 {
			first = h
		}
		if h.SSRC != first.SSRC || len(payload) != 160 {
			t.Fatalf("packet %+v with %d bytes", h, len(payload))
		}
		got = append(got, pkt{h.Marker, payload[0] != PCMU.SilenceByte(), h.Timestamp - first.Timestamp, h.Sequence - first.Sequence})
	}
	step() // silence; first packet
	step() // silence
	// Start off zero so the first byte is loud.
	if err := s.Write(ctx, sine(200, 0, 440, 8000)[1:]); err != nil {
		t.Fatal(err)
	}
	step()                                    // talkspurt
	step()                                    // the rest, padded
	if err := s.WaitPlayed(ctx); err != nil { // drained: returns at once
		t.Fatal(err)
	}
	step() // silence
	update := Update{Remote: addrOf(peer), Codec: PCMU, DTMFPayloadType: 101, Direction: RecvOnly}
	if err := s.Update(update); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, sine(160, 1, 440, 8000)); err != nil {
		t.Fatal(err)
	}
	step() // on hold: nothing sent, playout paused
	update.Direction = SendRecv
	if err := s.Update(update); err != nil {
		t.Fatal(err)
	}
	step() // resumes with a marker
	want := []pkt{
		{true, false, 0, 0},
		{false, false, 160, 1},
		{true, true, 320, 2},
		{false, true, 480, 3},
		{false, false, 640, 4},
		{},
		{true, true, 960, 5},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("stream\n got %+v\nwant %+v", got, want)
	}
}

func TestSessionDTMFOnTheWire(t *testing.T) {
	ctx := testCtx(t)
	peer := udpConn(t)
	s := newTestSession(t, func(c *Config) { c.Remote = addrOf(peer) })
	if err := s.Write(ctx, sine(3*FrameSamples, 1, 440, 8000)); err != nil {
		t.Fatal(err)
	}
	s.step(time.Now()) // one packet of audio first
	sent := make(chan error, 1)
	go func() { sent <- s.SendDTMF(ctx, '9', 60*time.Millisecond) }()
	waitFor(t, ctx, "SendDTMF to start", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.digitEnd != nil
	})
	var events []rtpHeader
	var ends int
	for range 5 { // 60 ms at 20 ms: two updates and three end packets
		p, _, _, _ := s.step(time.Now())
		h, payload, _ := parseRTP(p)
		ev, err := ParseTelephoneEvent(payload)
		if h.PayloadType != 101 || err != nil || ev.Event != 9 {
			t.Fatalf("packet %+v %+v %v", h, ev, err)
		}
		if ev.End {
			ends++
		}
		events = append(events, h)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if ends != 3 || !events[0].Marker || events[1].Marker {
		t.Fatalf("ends %d, events %+v", ends, events)
	}
	for _, h := range events {
		if h.Timestamp != events[0].Timestamp {
			t.Fatalf("timestamps differ: %+v", events)
		}
	}
	// Audio resumes where it paused, as a new talkspurt.
	p, _, _, _ := s.step(time.Now())
	h, _, _ := parseRTP(p)
	if h.PayloadType != 0 || !h.Marker || h.Timestamp != events[0].Timestamp+5*160 || h.Sequence != events[4].Sequence+1 {
		t.Fatalf("audio after the key: %+v", h)
	}
	if s.playout.len() != FrameSamples {
		t.Fatalf("%d samples queued, want %d", s.playout.len(), FrameSamples)
	}
}

func TestSessionSendDTMFErrors(t *testing.T) {
	ctx := testCtx(t)
	s := newTestSession(t, func(c *Config) { c.DTMFPayloadType = -1 })
	if err := s.SendDTMF(ctx, '1', 0); !errors.Is(err, ErrNoDTMF) {
		t.Errorf("err = %v, want ErrNoDTMF", err)
	}
	if err := s.SendDTMF(ctx, 'x', 0); !errors.Is(err, ErrInvalidDigit) {
		t.Errorf("err = %v, want ErrInvalidDigit", err)
	}
	s2 := newTestSession(t, nil) // never started: the key never goes out
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if err := s2.SendDTMF(short, '1', 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want DeadlineExceeded", err)
	}
	// Dropping telephone-event abandons the key press.
	if err := s2.Update(Update{Codec: PCMU, DTMFPayloadType: -1}); err != nil {
		t.Fatal(err)
	}
	s2.mu.Lock()
	idle := s2.digitEnd == nil && len(s2.digits) == 0
	s2.mu.Unlock()
	if !idle {
		t.Error("key press still pending")
	}
}

func TestSessionWriteBlocksUntilPlayed(t *testing.T) {
	ctx := testCtx(t)
	peer := udpConn(t)
	s := newTestSession(t, func(c *Config) { c.Remote = addrOf(peer) })
	if err := s.Write(ctx, make([]int16, queueSamples)); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if err := s.Write(short, make([]int16, 1)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Write to a full queue: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Write(ctx, make([]int16, 100)) }()
	s.step(time.Now()) // one packet time makes room
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := s.playout.len(); n != queueSamples-FrameSamples+100 {
		t.Fatalf("queued %d", n)
	}
}

func TestSessionClearDropsQueueAndBlockedWrite(t *testing.T) {
	ctx := testCtx(t)
	s := newTestSession(t, nil)
	if err := s.Write(ctx, make([]int16, queueSamples)); err != nil {
		t.Fatal(err)
	}
	played := make(chan error, 1)
	go func() { played <- s.WaitPlayed(ctx) }()
	done := make(chan error, 1)
	go func() { done <- s.Write(ctx, make([]int16, 3*queueSamples)) }()
	// Clear until the blocked Write gives up: it may not have blocked yet
	// when the first Clear comes.
	waitFor(t, ctx, "Write to return", func() bool {
		s.Clear()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			return true
		default:
			return false
		}
	})
	if err := <-played; err != nil {
		t.Fatal(err)
	}
	if n := s.playout.len(); n > queueSamples {
		t.Fatalf("queued %d", n)
	}
}

func TestSessionReadFrame(t *testing.T) {
	ctx := testCtx(t)
	peer := udpConn(t)
	s := newTestSession(t, func(c *Config) { c.Remote, c.Ptime = addrOf(peer), 30*time.Millisecond })
	if _, err := s.ReadFrame(ctx, make([]int16, FrameSamples-1)); !errors.Is(err, ErrShortBuffer) {
		t.Fatalf("short frame: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if _, err := s.ReadFrame(short, make([]int16, FrameSamples)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("nothing to read: %v", err)
	}

	// 30 ms packets come out as 20 ms frames.
	for seq := range uint16(4) {
		s.receivePacket(rtpPacket(0, seq, uint32(seq)*240, 1, false, constPayload(int(seq)+1, 240)), addrOf(peer), time.Now())
	}
	for range 4 {
		s.step(time.Now())
	}
	var got []int16
	frame := make([]int16, FrameSamples)
	for range 6 {
		if n, err := s.ReadFrame(ctx, frame); err != nil || n != FrameSamples {
			t.Fatal(n, err)
		}
		got = append(got, frame...)
	}
	for i, x := range got {
		if want := decoded(i/240 + 1); x != want {
			t.Fatalf("sample %d = %d, want %d", i, x, want)
		}
	}
}

func TestSessionSlowReaderLosesOldestFrames(t *testing.T) {
	ctx := testCtx(t)
	s := newTestSession(t, nil)
	for range queueSamples/FrameSamples + 10 {
		s.step(time.Now())
	}
	if st := s.Stats(); st.FramesDropped != 10 {
		t.Fatalf("FramesDropped = %d, want 10", st.FramesDropped)
	}
	if _, err := s.ReadFrame(ctx, make([]int16, FrameSamples)); err != nil {
		t.Fatal(err)
	}
}
