package media

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pion/rtp"
)

func TestParseRTP(t *testing.T) {
	base := []byte{0x80, 0x00, 0x12, 0x34, 0, 0, 0x01, 0x00, 0xde, 0xad, 0xbe, 0xef}
	with := func(b0 byte, tail ...byte) []byte {
		p := append([]byte{b0}, base[1:]...)
		return append(p, tail...)
	}
	tests := []struct {
		name    string
		pkt     []byte
		payload []byte
		err     error
	}{
		{"plain", with(0x80, 1, 2, 3), []byte{1, 2, 3}, nil},
		{"empty payload", with(0x80), []byte{}, nil},
		{"csrc", with(0x82, 0, 0, 0, 1, 0, 0, 0, 2, 9), []byte{9}, nil},
		{"extension", with(0x90, 0xbe, 0xde, 0, 1, 1, 2, 3, 4, 7, 8), []byte{7, 8}, nil},
		{"padding", with(0xa0, 5, 6, 0, 0, 3), []byte{5, 6}, nil},
		{"padding is whole payload", with(0xa0, 0, 2), []byte{}, nil},
		{"zero padding", with(0xa0, 5, 0), nil, errBadPadding},
		{"padding too long", with(0xa0, 5, 9), nil, errBadPadding},
		{"padding without payload", with(0xa0), nil, errBadPadding},
		{"short", base[:11], nil, errShortRTP},
		{"csrc truncated", with(0x83, 0, 0, 0, 1), nil, errShortRTP},
		{"extension header truncated", with(0x90, 0xbe), nil, errBadHeaderEx},
		{"extension truncated", with(0x90, 0xbe, 0xde, 0, 2, 1, 2, 3, 4), nil, errBadHeaderEx},
		{"version 1", with(0x40, 1), nil, errNotRTP},
		{"one byte", []byte{0x80}, nil, errNotRTP},
		{"empty", nil, nil, errNotRTP},
		{"rtcp receiver report", []byte{0x81, 201, 0, 1, 0, 0, 0, 1}, nil, errRTCP},
		{"rtcp sender report", []byte{0x80, 200, 0, 6}, nil, errRTCP},
		{"rtcp fir", []byte{0x80, 192, 0, 6}, nil, errRTCP},
		{"marker and pt 95 is rtp", append([]byte{0x80, 0xdf + 1}, base[2:]...), []byte{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, payload, err := parseRTP(tt.pkt)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if !bytes.Equal(payload, tt.payload) {
				t.Errorf("payload = %v, want %v", payload, tt.payload)
			}
			if h.Sequence != 0x1234 || h.Timestamp != 0x100 || h.SSRC != 0xdeadbeef {
				t.Errorf("header = %+v", h)
			}
		})
	}
}

func TestPutRTPHeaderMatchesPion(t *testing.T) {
	want := rtpHeader{Marker: true, PayloadType: 101, Sequence: 65535, Timestamp: 0xfffffff0, SSRC: 42}
	b := make([]byte, rtpHeaderSize+2)
	putRTPHeader(b, want)
	b[12], b[13] = 7, 8
	var p rtp.Packet
	if err := p.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	if p.Version != 2 || p.Marker != want.Marker || p.PayloadType != want.PayloadType ||
		p.SequenceNumber != want.Sequence || p.Timestamp != want.Timestamp || p.SSRC != want.SSRC ||
		!bytes.Equal(p.Payload, []byte{7, 8}) {
		t.Fatalf("pion read %+v", p)
	}
	got, _, err := parseRTP(b)
	if err != nil || got != want {
		t.Fatalf("parseRTP = %+v, %v; want %+v", got, err, want)
	}
}

func TestParseRTPAllocatesNothing(t *testing.T) {
	pkts := [][]byte{
		{0x80, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xff},
		{0x9f, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1},
		{0x40},
	}
	allocs := testing.AllocsPerRun(100, func() {
		for _, p := range pkts {
			_, _, _ = parseRTP(p)
		}
	})
	if allocs != 0 {
		t.Fatalf("parseRTP allocates %v times", allocs)
	}
}

// FuzzParseRTP checks parseRTP never panics, that its payload lies inside
// the packet, and that it agrees with pion/rtp wherever pion accepts an
// RTP (not RTCP) version 2 packet.
func FuzzParseRTP(f *testing.F) {
	f.Add([]byte{0x80, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xff})
	f.Add([]byte{0xb2, 0x65, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 0xbe, 0xde, 0, 0, 1, 2})
	f.Add([]byte{0x81, 201, 0, 7})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		h, payload, err := parseRTP(pkt)
		if err == nil {
			// payload is pkt[off:off+len(payload)] for a header of off bytes.
			off := cap(pkt) - cap(payload)
			if off < rtpHeaderSize || off+len(payload) > len(pkt) {
				t.Fatalf("payload at %d+%d is outside the %d-byte packet", off, len(payload), len(pkt))
			}
		}
		var p rtp.Packet
		if p.Unmarshal(pkt) != nil || p.Version != 2 || pkt[1] >= 192 && pkt[1] <= 223 {
			return
		}
		if err != nil {
			t.Fatalf("pion accepts %x, parseRTP says %v", pkt, err)
		}
		want := rtpHeader{Marker: p.Marker, PayloadType: p.PayloadType, Sequence: p.SequenceNumber, Timestamp: p.Timestamp, SSRC: p.SSRC}
		if h != want || !bytes.Equal(payload, p.Payload) {
			t.Fatalf("parseRTP = %+v %x, pion = %+v %x", h, payload, want, p.Payload)
		}
	})
}
