package media

import (
	"encoding/binary"
	"fmt"
	"time"
)

// TelephoneEvent is the payload of one RFC 4733 telephone-event packet
// (RFC 4733 s.2.3).
type TelephoneEvent struct {
	Event    uint8  // event code; 0-15 are the DTMF keys (RFC 4733 s.3.2)
	End      bool   // E bit: the event has ended (s.2.3.2)
	Volume   uint8  // power level as 0 to 63, meaning 0 to -63 dBm0 (s.2.3.4)
	Duration uint16 // length so far, in RTP timestamp units from the event's timestamp (s.2.3.5)
}

// TelephoneEventSize is the size of one event in a payload.
const TelephoneEventSize = 4

// ParseTelephoneEvent reads the first event of a telephone-event payload.
// Further events, as RFC 2198 redundancy would bring, are ignored.
func ParseTelephoneEvent(payload []byte) (TelephoneEvent, error) {
	if len(payload) < TelephoneEventSize {
		return TelephoneEvent{}, ErrShortEvent
	}
	return TelephoneEvent{
		Event:    payload[0],
		End:      payload[1]&0x80 != 0,
		Volume:   payload[1] & 0x3f,
		Duration: binary.BigEndian.Uint16(payload[2:]),
	}, nil
}

// MarshalTo writes e into b and returns TelephoneEventSize, or 0 if b is
// too short. The reserved R bit is sent as zero; Volume is cut to 6 bits.
func (e TelephoneEvent) MarshalTo(b []byte) int {
	if len(b) < TelephoneEventSize {
		return 0
	}
	b[0] = e.Event
	b[1] = e.Volume & 0x3f
	if e.End {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], e.Duration)
	return TelephoneEventSize
}

// dtmfKeys maps DTMF event codes to keys (RFC 4733 s.3.2, Table 7).
const dtmfKeys = "0123456789*#ABCD"

// EventDigit returns the key of DTMF event code e, if it is one.
func EventDigit(e uint8) (rune, bool) {
	if int(e) >= len(dtmfKeys) {
		return 0, false
	}
	return rune(dtmfKeys[e]), true
}

// DigitEvent returns the DTMF event code of key r: '0'-'9', '*', '#' and
// 'A'-'D' in either case.
func DigitEvent(r rune) (uint8, bool) {
	switch {
	case r >= '0' && r <= '9':
		return uint8(r - '0'), true
	case r == '*':
		return 10, true
	case r == '#':
		return 11, true
	case r >= 'A' && r <= 'D':
		return uint8(r-'A') + 12, true
	case r >= 'a' && r <= 'd':
		return uint8(r-'a') + 12, true
	}
	return 0, false
}

// DTMFReceiver turns a stream of telephone-event packets into key presses,
// each reported once.
//
// All packets of one event carry the event's start as their RTP
// timestamp (RFC 4733 s.2.2.1), so a timestamp not seen before is a new
// key press. A key is reported on the first packet of its event to arrive,
// whatever it is: that is 40 ms or more sooner than waiting for the end
// bit, an agent barging in on a key press wants it soon, and a key whose
// end packets are all lost is still reported. Updates, the end packet and
// its retransmissions (s.2.5.1.4) share the timestamp and are ignored.
//
// A DTMFReceiver is not safe for concurrent use. Its zero value is ready.
type DTMFReceiver struct {
	have     bool
	ts       uint32 // timestamp of the current event
	event    uint8
	ended    bool
	duration uint16 // longest duration seen for the current event
}

const (
	// staleEvents is how far back, in timestamp units (10 s at 8 kHz),
	// a packet is taken for a straggler of an earlier event rather than a
	// sender that started its timestamps again.
	staleEvents = 80000
	// longEvent is the duration past which the next segment of the same
	// event may follow (RFC 4733 s.2.5.1.3): within 128 ms of the 16-bit
	// limit, allowing for lost updates.
	longEvent = 0xffff - 1024
)

// Receive takes the event of one packet and its RTP timestamp, and
// returns the key if the packet starts a key press not yet reported.
// Events that are not DTMF keys are tracked but never reported.
func (r *DTMFReceiver) Receive(ts uint32, ev TelephoneEvent) (rune, bool) {
	if r.have {
		d := int32(ts - r.ts)
		switch {
		case d == 0:
			r.ended = r.ended || ev.End
			r.duration = max(r.duration, ev.Duration)
			return 0, false
		case d < 0 && d > -staleEvents:
			return 0, false
		case r.continued(ts, ev):
			r.ts, r.ended, r.duration = ts, ev.End, ev.Duration
			return 0, false
		}
	}
	*r = DTMFReceiver{have: true, ts: ts, event: ev.Event, ended: ev.End, duration: ev.Duration}
	return EventDigit(ev.Event)
}

// continued reports whether a packet with a new timestamp is the next
// segment of an event too long for the 16-bit duration field: the same
// event, not ended, starting where the last segment reached its limit
// (RFC 4733 s.2.5.1.3).
func (r *DTMFReceiver) continued(ts uint32, ev TelephoneEvent) bool {
	return ev.Event == r.event && !r.ended && r.duration >= longEvent && ts-r.ts <= 0x10000
}

// Reset forgets the current event, as for a new SSRC.
func (r *DTMFReceiver) Reset() { *r = DTMFReceiver{} }

// DTMF sending.
const (
	DefaultDTMFDuration = 100 * time.Millisecond
	MinDTMFDuration     = 40 * time.Millisecond
	MaxDTMFDuration     = 5 * time.Second // well inside the 16-bit duration at 8 kHz

	dtmfVolume     = 10 // -10 dBm0, a usual level for DTMF
	dtmfEndPackets = 3  // the final packet is sent three times (RFC 4733 s.2.5.1.4)
)

// DigitPacket is one RTP packet of a key press sent as telephone events.
// Every packet of a key press carries the RTP timestamp of its start.
type DigitPacket struct {
	Marker bool // set on the first packet of the event (RFC 4733 s.2.2.2)
	Event  TelephoneEvent
}

// AppendDigitPackets appends to dst the packets that send key digit for
// d, one to go out every ptime: updates with a growing duration, then the
// end packet three times (RFC 4733 s.2.5.1.2, s.2.5.1.4). d is clamped to
// MinDTMFDuration..MaxDTMFDuration; zero means DefaultDTMFDuration.
func AppendDigitPackets(dst []DigitPacket, digit rune, d, ptime time.Duration) ([]DigitPacket, error) {
	code, ok := DigitEvent(digit)
	if !ok {
		return dst, fmt.Errorf("%w: %q", ErrInvalidDigit, digit)
	}
	if ptime <= 0 {
		return dst, fmt.Errorf("%w: ptime %v", ErrInvalidConfig, ptime)
	}
	if d == 0 {
		d = DefaultDTMFDuration
	}
	d = min(max(d, MinDTMFDuration), MaxDTMFDuration)
	total := int(d * SampleRate / time.Second)
	step := max(int(ptime*SampleRate/time.Second), 1)
	ev := TelephoneEvent{Event: code, Volume: dtmfVolume}
	first := true
	for dur := step; dur < total; dur += step {
		ev.Duration = uint16(dur)
		dst = append(dst, DigitPacket{Marker: first, Event: ev})
		first = false
	}
	ev.End, ev.Duration = true, uint16(total)
	for range dtmfEndPackets {
		dst = append(dst, DigitPacket{Marker: first, Event: ev})
		first = false
	}
	return dst, nil
}
