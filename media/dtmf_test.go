package media

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestParseTelephoneEvent(t *testing.T) {
	tests := []struct {
		in   []byte
		want TelephoneEvent
		err  error
	}{
		{[]byte{5, 0x0a, 0x01, 0x40}, TelephoneEvent{Event: 5, Volume: 10, Duration: 320}, nil},
		{[]byte{11, 0x8a, 0x03, 0x20}, TelephoneEvent{Event: 11, End: true, Volume: 10, Duration: 800}, nil},
		{[]byte{0, 0x7f, 0xff, 0xff, 9, 9}, TelephoneEvent{Event: 0, Volume: 63, Duration: 65535}, nil}, // R bit ignored
		{[]byte{1, 2, 3}, TelephoneEvent{}, ErrShortEvent},
		{nil, TelephoneEvent{}, ErrShortEvent},
	}
	for _, tt := range tests {
		got, err := ParseTelephoneEvent(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("ParseTelephoneEvent(%x) = %+v, %v; want %+v, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestTelephoneEventMarshalTo(t *testing.T) {
	ev := TelephoneEvent{Event: 11, End: true, Volume: 10, Duration: 800}
	b := make([]byte, 5)
	if n := ev.MarshalTo(b); n != 4 || !bytes.Equal(b[:4], []byte{11, 0x8a, 0x03, 0x20}) {
		t.Fatalf("MarshalTo = %d, %x", n, b)
	}
	if n := ev.MarshalTo(b[:3]); n != 0 {
		t.Fatalf("MarshalTo short buffer = %d", n)
	}
}

func TestDigitMapping(t *testing.T) {
	for code, key := range "0123456789*#ABCD" {
		if r, ok := EventDigit(uint8(code)); !ok || r != key {
			t.Errorf("EventDigit(%d) = %q, %v", code, r, ok)
		}
		if c, ok := DigitEvent(key); !ok || int(c) != code {
			t.Errorf("DigitEvent(%q) = %d, %v", key, c, ok)
		}
	}
	if c, ok := DigitEvent('b'); !ok || c != 13 {
		t.Errorf("DigitEvent('b') = %d, %v", c, ok)
	}
	for _, r := range "xE!" {
		if _, ok := DigitEvent(r); ok {
			t.Errorf("DigitEvent(%q) ok", r)
		}
	}
	if _, ok := EventDigit(16); ok { // flash, not a key
		t.Error("EventDigit(16) ok")
	}
}

// A dtmfPacket is one received packet for the receiver tests.
type dtmfPacket struct {
	ts    uint32
	event uint8
	end   bool
	dur   uint16
}

func TestDTMFReceiver(t *testing.T) {
	press := func(ts uint32, event uint8) []dtmfPacket { // 100 ms at 20 ms, three end packets
		return []dtmfPacket{
			{ts, event, false, 160}, {ts, event, false, 320}, {ts, event, false, 480}, {ts, event, false, 640},
			{ts, event, true, 800}, {ts, event, true, 800}, {ts, event, true, 800},
		}
	}
	cat := func(ps ...[]dtmfPacket) (out []dtmfPacket) {
		for _, p := range ps {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name    string
		packets []dtmfPacket
		want    string
	}{
		{"one press", press(1000, 5), "5"},
		{"same key twice", cat(press(1000, 1), press(3000, 1)), "11"},
		{"keys in a row", cat(press(1000, 1), press(2000, 10), press(3000, 11), press(4000, 15)), "1*#D"},
		{"start lost", press(1000, 7)[2:], "7"},
		{"only an end packet arrives", press(1000, 7)[5:6], "7"},
		{"end packets lost", cat(press(1000, 2)[:2], press(2000, 2)[:2]), "22"},
		{"straggler of an earlier press", cat(press(1000, 3), press(2000, 4)[:2], press(1000, 3)[6:], press(2000, 4)[2:]), "34"},
		{"timestamp wraps", cat(press(0xffffff00, 8), press(100, 9)), "89"},
		{"sender restarts its timestamps", cat(press(900000, 1), press(1000, 2)), "12"},
		{"not a key", cat(press(1000, 16), press(2000, 0)), "0"},
		{"long event continues in a new segment", []dtmfPacket{
			{1000, 6, false, 160}, {1000, 6, false, 65000}, {1000, 6, false, 65535},
			{1000 + 65535, 6, false, 160}, {1000 + 65535, 6, true, 800},
		}, "6"},
		{"same key after a long ended event", []dtmfPacket{
			{1000, 6, false, 65535}, {1000, 6, true, 65535}, {1000 + 65535, 6, false, 160},
		}, "66"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r DTMFReceiver
			var got []rune
			for _, p := range tt.packets {
				if d, ok := r.Receive(p.ts, TelephoneEvent{Event: p.event, End: p.end, Volume: 10, Duration: p.dur}); ok {
					got = append(got, d)
				}
			}
			if string(got) != tt.want {
				t.Fatalf("got %q, want %q", string(got), tt.want)
			}
		})
	}
}

func TestDTMFReceiverReset(t *testing.T) {
	var r DTMFReceiver
	ev := TelephoneEvent{Event: 4, Duration: 160}
	r.Receive(500, ev)
	r.Reset()
	if d, ok := r.Receive(500, ev); !ok || d != '4' {
		t.Fatalf("after Reset: %q, %v", d, ok)
	}
}

func TestAppendDigitPackets(t *testing.T) {
	ps, err := AppendDigitPackets(nil, '#', 100*time.Millisecond, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	want := []DigitPacket{
		{true, TelephoneEvent{11, false, 10, 160}},
		{false, TelephoneEvent{11, false, 10, 320}},
		{false, TelephoneEvent{11, false, 10, 480}},
		{false, TelephoneEvent{11, false, 10, 640}},
		{false, TelephoneEvent{11, true, 10, 800}},
		{false, TelephoneEvent{11, true, 10, 800}},
		{false, TelephoneEvent{11, true, 10, 800}},
	}
	if len(ps) != len(want) {
		t.Fatalf("%d packets, want %d: %+v", len(ps), len(want), ps)
	}
	for i := range want {
		if ps[i] != want[i] {
			t.Errorf("packet %d = %+v, want %+v", i, ps[i], want[i])
		}
	}

	// The receiver reports it once.
	var r DTMFReceiver
	var got []rune
	for _, p := range ps {
		if d, ok := r.Receive(1234, p.Event); ok {
			got = append(got, d)
		}
	}
	if string(got) != "#" {
		t.Fatalf("received %q", string(got))
	}
}

func TestAppendDigitPacketsLimits(t *testing.T) {
	tests := []struct {
		d, ptime  time.Duration
		n         int    // packets
		lastDur   uint16 // duration of the end packets
		firstMark bool
	}{
		{0, 20 * time.Millisecond, 4 + 3, 800, true},                     // default 100 ms
		{time.Millisecond, 20 * time.Millisecond, 1 + 3, 320, true},      // raised to 40 ms
		{time.Minute, 60 * time.Millisecond, 83 + 3, 40000, true},        // cut to 5 s
		{40 * time.Millisecond, 60 * time.Millisecond, 0 + 3, 320, true}, // shorter than ptime: end packets only
	}
	for _, tt := range tests {
		ps, err := AppendDigitPackets(nil, '1', tt.d, tt.ptime)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != tt.n || ps[len(ps)-1].Event.Duration != tt.lastDur || ps[0].Marker != tt.firstMark {
			t.Errorf("d=%v ptime=%v: %d packets, last %+v", tt.d, tt.ptime, len(ps), ps[len(ps)-1])
		}
		for i, p := range ps {
			if p.Marker != (i == 0) {
				t.Errorf("d=%v: marker on packet %d", tt.d, i)
			}
		}
	}
	if _, err := AppendDigitPackets(nil, 'x', 0, 20*time.Millisecond); !errors.Is(err, ErrInvalidDigit) {
		t.Errorf("err = %v, want ErrInvalidDigit", err)
	}
}

// FuzzParseTelephoneEvent checks parsing never panics, that what parses
// marshals back to the same bytes (bar the reserved bit), and that the
// receiver digests any event.
func FuzzParseTelephoneEvent(f *testing.F) {
	f.Add([]byte{5, 0x0a, 0x01, 0x40}, uint32(1000))
	f.Add([]byte{11, 0xca, 0xff, 0xff}, uint32(0xffffffff))
	f.Add([]byte{200, 0, 0}, uint32(0))
	var r DTMFReceiver
	f.Fuzz(func(t *testing.T, payload []byte, ts uint32) {
		ev, err := ParseTelephoneEvent(payload)
		if err != nil {
			if len(payload) >= TelephoneEventSize {
				t.Fatalf("%x: %v", payload, err)
			}
			return
		}
		b := make([]byte, TelephoneEventSize)
		if ev.MarshalTo(b) != TelephoneEventSize {
			t.Fatal("MarshalTo refused")
		}
		want := append([]byte(nil), payload[:TelephoneEventSize]...)
		want[1] &^= 0x40 // R bit
		if !bytes.Equal(b, want) {
			t.Fatalf("round trip %x -> %x", payload[:TelephoneEventSize], b)
		}
		if d, ok := r.Receive(ts, ev); ok && (ev.Event > 15 || d == 0) {
			t.Fatalf("reported %q for event %d", d, ev.Event)
		}
	})
}
