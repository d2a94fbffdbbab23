package media

import (
	"slices"
	"testing"
)

// constPayload returns n PCMU bytes that decode to one value, distinct
// for each v in 1..100.
func constPayload(v, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(0x80 + v) // mu-law codes 0x81.. decode to large negative values
	}
	return b
}

func decoded(v int) int16 {
	var d [1]int16
	PCMU.Decode(d[:], []byte{byte(0x80 + v)})
	return d[0]
}

func frameOf(x int16, n int) []int16 {
	f := make([]int16, n)
	for i := range f {
		f[i] = x
	}
	return f
}

func audioHeader(seq uint16) rtpHeader {
	return rtpHeader{PayloadType: PCMU.PayloadType, Sequence: seq, Timestamp: uint32(seq) * 160, SSRC: 7}
}

func TestReceiverConceals(t *testing.T) {
	r := newReceiver(PCMU, -1, 2)
	for _, seq := range []uint16{1, 2, 5, 6} { // 3 and 4 lost
		r.packet(audioHeader(seq), constPayload(int(seq), 160))
	}
	want := [][]int16{
		frameOf(decoded(1), 160),
		frameOf(decoded(2), 160),
		frameOf(decoded(2)/2, 160), // the last packet repeated at half amplitude, once
		frameOf(0, 160),            // then silence
		frameOf(decoded(5), 160),
		frameOf(decoded(6), 160),
		frameOf(0, 160), // run dry
	}
	out := make([]int16, 160)
	for i, w := range want {
		r.playout(out)
		if !slices.Equal(out, w) {
			t.Fatalf("frame %d = %v..., want %v...", i, out[:3], w[:3])
		}
	}
}

func TestReceiverReframes(t *testing.T) {
	// The peer sends 30 ms packets; we play 20 ms at a time.
	r := newReceiver(PCMU, -1, 1)
	for seq := range uint16(4) {
		r.packet(audioHeader(seq), constPayload(int(seq)+1, 240))
	}
	var got []int16
	out := make([]int16, 160)
	for range 6 { // 120 ms
		r.playout(out)
		got = append(got, out...)
	}
	var want []int16
	for v := 1; v <= 4; v++ {
		want = append(want, frameOf(decoded(v), 240)...)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("reframed audio differs")
	}
}

func TestReceiverPartialFrameThenSilence(t *testing.T) {
	r := newReceiver(PCMU, -1, 1)
	r.packet(audioHeader(1), constPayload(9, 100))
	out := make([]int16, 160)
	r.playout(out)
	want := append(frameOf(decoded(9), 100), frameOf(0, 60)...)
	if !slices.Equal(out, want) {
		t.Fatalf("got %v", out)
	}
}

func TestReceiverNewSSRCRestarts(t *testing.T) {
	r := newReceiver(PCMU, -1, 1)
	r.packet(audioHeader(100), constPayload(1, 160))
	h := audioHeader(3)
	h.SSRC = 8
	r.packet(h, constPayload(2, 160)) // far behind: late for the old stream, fine for the new
	out := make([]int16, 160)
	r.playout(out)
	if out[0] != decoded(2) {
		t.Fatalf("got %d, want the new stream's %d", out[0], decoded(2))
	}
	if s := r.jb.Stats(); s.Resets != 1 || s.Dropped != 1 {
		t.Fatalf("jitter stats %+v", s)
	}
}

func TestReceiverDTMF(t *testing.T) {
	r := newReceiver(PCMA, 101, 1)
	if !r.knows(8) || !r.knows(101) || r.knows(0) || r.knows(13) {
		t.Fatal("knows the wrong payload types")
	}
	ev := func(ssrc, ts uint32, end bool) (rtpHeader, []byte) {
		b := make([]byte, 4)
		TelephoneEvent{Event: 1, End: end, Duration: 160}.MarshalTo(b)
		return rtpHeader{PayloadType: 101, Timestamp: ts, SSRC: ssrc}, b
	}
	var got []rune
	for _, p := range []struct {
		ssrc, ts uint32
		end      bool
	}{{1, 500, false}, {1, 500, true}, {1, 500, true}, {2, 500, false}, {2, 500, true}} {
		if d, ok := r.packet(ev(p.ssrc, p.ts, p.end)); ok {
			got = append(got, d)
		}
	}
	if string(got) != "11" { // the new SSRC is a new stream
		t.Fatalf("got %q", string(got))
	}
	r.packet(rtpHeader{PayloadType: 101}, []byte{1, 2})
	if r.badEvents != 1 {
		t.Fatalf("badEvents = %d", r.badEvents)
	}
}

func TestReceiverSetCodec(t *testing.T) {
	r := newReceiver(PCMU, -1, 1)
	r.packet(audioHeader(1), constPayload(1, 160))
	r.setCodec(PCMU)
	if r.jb.Len() != 1 {
		t.Fatal("same codec dropped audio")
	}
	r.setCodec(PCMA)
	if r.jb.Len() != 0 || !r.knows(PCMA.PayloadType) || r.knows(PCMU.PayloadType) {
		t.Fatal("codec change kept old audio or payload type")
	}
}
