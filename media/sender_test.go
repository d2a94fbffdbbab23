package media

import (
	"bytes"
	"testing"
)

func TestSenderStream(t *testing.T) {
	s := newSender()
	s.ssrc, s.seq, s.ts = 99, 65535, 0xffffff60
	pcm := sine(160, 0, 440, 8000)

	p := s.audio(PCMA, pcm, true)
	h, payload, err := parseRTP(p)
	if err != nil || h != (rtpHeader{Marker: true, PayloadType: 8, Sequence: 65535, Timestamp: 0xffffff60, SSRC: 99}) {
		t.Fatalf("audio header %+v, %v", h, err)
	}
	want := make([]byte, 160)
	PCMA.Encode(want, pcm)
	if !bytes.Equal(payload, want) {
		t.Fatal("audio payload differs")
	}

	s.advance(160)
	p = s.silence(PCMU, 160, false)
	h, payload, _ = parseRTP(p)
	if h.Sequence != 0 || h.Timestamp != 0 || h.Marker || len(payload) != 160 || payload[0] != 0xff || payload[159] != 0xff {
		t.Fatalf("silence %+v %x", h, payload[:4])
	}

	s.advance(160)
	p = s.event(101, 1234, DigitPacket{Marker: true, Event: TelephoneEvent{Event: 3, Volume: 10, Duration: 160}})
	h, payload, _ = parseRTP(p)
	ev, _ := ParseTelephoneEvent(payload)
	if h.PayloadType != 101 || h.Sequence != 1 || h.Timestamp != 1234 || !h.Marker || ev.Event != 3 || len(payload) != 4 {
		t.Fatalf("event %+v %+v", h, ev)
	}
}

func TestSenderAllocatesNothing(t *testing.T) {
	s := newSender()
	pcm := make([]int16, 160)
	a := testing.AllocsPerRun(100, func() {
		s.audio(PCMU, pcm, false)
		s.silence(PCMU, 160, false)
		s.advance(160)
	})
	if a != 0 {
		t.Fatalf("%v allocs", a)
	}
}
