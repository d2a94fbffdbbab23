package media

// MaxPayloadSize is the largest RTP payload media accepts: 60 ms of G.711,
// the longest packet time it negotiates.
const MaxPayloadSize = 480

// Jitter buffer defaults.
const (
	DefaultJitterDepth    = 3  // packets held before playout starts: 60 ms at 20 ms
	DefaultJitterCapacity = 50 // packets the buffer can hold: 1 s at 20 ms
)

// maxLateRun is how many late packets in a row, with none accepted in
// between, make the buffer take the stream for a new one. A sender that
// restarts its sequence a little below where it was would otherwise be
// refused as late until it caught up.
const maxLateRun = 8

// PushResult says what JitterBuffer.Push did with a packet.
type PushResult uint8

// Push results.
const (
	PushAccepted  PushResult = iota // held for playout
	PushDuplicate                   // a copy of a packet already held
	PushLate                        // its turn to play has passed
	PushTooBig                      // payload longer than MaxPayloadSize
)

func (r PushResult) String() string {
	switch r {
	case PushAccepted:
		return "accepted"
	case PushDuplicate:
		return "duplicate"
	case PushLate:
		return "late"
	case PushTooBig:
		return "too big"
	}
	return "unknown"
}

// PopStatus says what JitterBuffer.Pop returned.
type PopStatus uint8

// Pop statuses.
const (
	PopPacket  PopStatus = iota // the next packet's payload is in dst
	PopMissing                  // the next packet is missing; the caller conceals one packet
	PopEmpty                    // nothing to play yet: buffering or run dry
)

func (s PopStatus) String() string {
	switch s {
	case PopPacket:
		return "packet"
	case PopMissing:
		return "missing"
	case PopEmpty:
		return "empty"
	}
	return "unknown"
}

// JitterStats counts what a JitterBuffer has seen.
type JitterStats struct {
	Pushed     uint64 // packets accepted
	Duplicates uint64 // packets refused as copies of one held
	Late       uint64 // packets refused because their turn had passed
	TooBig     uint64 // packets refused for a payload over MaxPayloadSize
	Lost       uint64 // sequence numbers never played: reported missing or skipped
	Dropped    uint64 // accepted packets thrown away to cut latency or on a reset
	Resets     uint64 // restarts on a new stream, including Reset calls
	Underruns  uint64 // times playout ran dry and went back to buffering
}

// JitterBuffer reorders the RTP packets of one stream by sequence number
// and releases them at the receiver's pace (RFC 3550 s.5.1: the sequence
// number "may be used by the receiver to detect packet loss and to
// restore packet sequence").
//
// It is a fixed ring of slots indexed by sequence number, with a copy of
// each payload; nothing is allocated after NewJitterBuffer. Playout starts
// once depth packets are held, and starts again that way whenever the
// buffer runs dry, so a new talkspurt after silence suppression, or after
// RFC 4733 events that took the audio's sequence numbers, is buffered
// afresh. A sequence jump of the capacity or more, or a packet that
// reuses a held sequence number with another timestamp, is taken for a new
// stream and restarts the buffer rather than reporting hundreds of
// missing packets. Sequence numbers and timestamps are compared with
// serial arithmetic, so both wrap freely.
//
// A JitterBuffer is not safe for concurrent use.
type JitterBuffer struct {
	slots     []jitterSlot
	data      []byte // MaxPayloadSize bytes per slot
	depth     int
	highWater int // more packets held than this and playout skips one

	started    bool   // a packet has been accepted since the last reset
	playing    bool   // depth was reached; popping in sequence
	played     bool   // a packet has been popped since the last reset
	lastPlayed uint16 // sequence number of the last packet popped
	next       uint16 // sequence number of the head slot: the next to play
	head       int    // slot index of next
	count      int    // packets held
	span       int    // offset from head of the newest packet held, plus one
	lateRun    int    // late packets in a row

	stats JitterStats
}

type jitterSlot struct {
	full  bool
	event bool // a telephone-event packet: holds its place, plays nothing
	seq   uint16
	n     uint16
	ts    uint32
}

// NewJitterBuffer returns a buffer that starts playout once depth packets
// are held and holds at most capacity. Zero or negative values take the
// defaults; capacity is raised to depth+2 if smaller.
func NewJitterBuffer(depth, capacity int) *JitterBuffer {
	if depth <= 0 {
		depth = DefaultJitterDepth
	}
	if capacity <= 0 {
		capacity = DefaultJitterCapacity
	}
	capacity = max(capacity, depth+2)
	return &JitterBuffer{
		slots:     make([]jitterSlot, capacity),
		data:      make([]byte, capacity*MaxPayloadSize),
		depth:     depth,
		highWater: min(2*depth+2, capacity-1),
	}
}

// Push offers a packet's payload; the buffer keeps a copy.
func (j *JitterBuffer) Push(seq uint16, ts uint32, payload []byte) PushResult {
	return j.push(seq, ts, payload, false)
}

// PushEvent records that sequence number seq of the audio stream carried
// a telephone event rather than audio. Senders such as baresip number
// RFC 4733 packets in the same series as the audio of their SSRC (RFC
// 3550 s.5.1 gives an SSRC one series); without this the buffer would
// count each event packet as a lost audio packet and conceal it, adding
// delay. Pop passes over event places without a sound.
func (j *JitterBuffer) PushEvent(seq uint16, ts uint32) PushResult {
	return j.push(seq, ts, nil, true)
}

func (j *JitterBuffer) push(seq uint16, ts uint32, payload []byte, event bool) PushResult {
	if len(payload) > MaxPayloadSize {
		j.stats.TooBig++
		return PushTooBig
	}
	if !j.started {
		j.begin(seq)
	}
	size := len(j.slots)
	off := int(int16(seq - j.next))
	switch {
	case off >= size || off < -size:
		j.restart(seq)
		off = 0
	case off < 0:
		if !j.canRewind(seq, -off) {
			j.lateRun++
			if j.lateRun < maxLateRun {
				j.stats.Late++
				return PushLate
			}
			j.restart(seq)
		} else {
			// Still buffering: move the start back to take it.
			j.head = (j.head + off + size) % size
			j.next = seq
			j.span -= off
		}
		off = 0
	}
	i := (j.head + off) % size
	s := &j.slots[i]
	if s.full {
		if s.ts == ts {
			j.stats.Duplicates++
			return PushDuplicate
		}
		j.restart(seq)
		i, s = j.head, &j.slots[j.head]
		off = 0
	}
	*s = jitterSlot{full: true, event: event, seq: seq, n: uint16(len(payload)), ts: ts}
	copy(j.data[i*MaxPayloadSize:], payload)
	j.count++
	j.span = max(j.span, off+1)
	j.lateRun = 0
	j.stats.Pushed++
	return PushAccepted
}

// canRewind reports whether a packet k places before the head may still
// be taken: playout has not started, it is newer than anything played,
// and the window still fits.
func (j *JitterBuffer) canRewind(seq uint16, k int) bool {
	return !j.playing && (!j.played || int16(seq-j.lastPlayed) > 0) && j.span+k <= len(j.slots)
}

// Pop copies the next packet's payload into dst, which should hold
// MaxPayloadSize bytes, and returns its length and PopPacket. It returns
// PopMissing when that packet is missing but later ones are held (the
// caller conceals one packet's worth), and PopEmpty while buffering or
// when nothing is held.
func (j *JitterBuffer) Pop(dst []byte) (int, PopStatus) {
	for {
		n, st, again := j.pop(dst)
		if !again {
			return n, st
		}
	}
}

// pop is one try of Pop: again is true when it passed over an event
// place, which is neither played nor lost, and Pop tries once more. Each
// try takes a slot, so Pop ends.
func (j *JitterBuffer) pop(dst []byte) (n int, st PopStatus, again bool) {
	if j.count == 0 {
		if j.playing {
			j.playing = false
			j.stats.Underruns++
		}
		return 0, PopEmpty, false
	}
	if !j.playing {
		if j.count < j.depth {
			return 0, PopEmpty, false
		}
		// Start (again) from the oldest packet held: the sequence numbers
		// before it were covered by the silence that was played.
		j.playing = true
		j.skip(j.oldest())
	}
	if j.count > j.highWater {
		// The sender runs faster than we play, or a burst arrived: drop
		// the oldest packet to bring the delay back down.
		j.skip(j.oldest())
		j.slots[j.head].full = false
		j.count--
		j.stats.Dropped++
		j.advance()
	}
	if !j.slots[j.head].full {
		// A hole no longer than the playout depth is loss to conceal; a
		// longer one, with later packets already here, is a jump in the
		// sender's numbering, and concealing it would only add delay.
		g := j.oldest()
		if g <= j.depth {
			j.advance()
			j.stats.Lost++
			return 0, PopMissing, false
		}
		j.skip(g)
	}
	s := &j.slots[j.head]
	at := j.head * MaxPayloadSize
	n = copy(dst, j.data[at:at+int(s.n)])
	s.full = false
	j.count--
	j.played, j.lastPlayed = true, s.seq
	j.advance()
	if s.event {
		return 0, 0, true
	}
	return n, PopPacket, false
}

// oldest returns the offset from the head of the oldest packet held, or
// -1 if none is.
func (j *JitterBuffer) oldest() int {
	for k := range j.span {
		if j.slots[(j.head+k)%len(j.slots)].full {
			return k
		}
	}
	return -1
}

func (j *JitterBuffer) advance() {
	j.head = (j.head + 1) % len(j.slots)
	j.next++
	j.span = max(j.span-1, 0)
}

// skip passes over k empty slots, counting them lost.
func (j *JitterBuffer) skip(k int) {
	if k <= 0 {
		return
	}
	j.head = (j.head + k) % len(j.slots)
	j.next += uint16(k)
	j.span -= k
	j.stats.Lost += uint64(k)
}

// begin starts an empty buffer at sequence number seq.
func (j *JitterBuffer) begin(seq uint16) {
	j.started, j.next = true, seq
}

// restart drops everything and begins a new stream at seq.
func (j *JitterBuffer) restart(seq uint16) {
	j.Reset()
	j.begin(seq)
}

// Reset drops every packet held and forgets the stream, as for a new SSRC.
func (j *JitterBuffer) Reset() {
	for i := range j.slots {
		j.slots[i].full = false
	}
	j.stats.Dropped += uint64(j.count)
	j.stats.Resets++
	j.started, j.playing, j.played = false, false, false
	j.lastPlayed, j.next, j.head, j.count, j.span, j.lateRun = 0, 0, 0, 0, 0, 0
}

// Len returns the number of packets held.
func (j *JitterBuffer) Len() int { return j.count }

// Cap returns the number of packets the buffer can hold.
func (j *JitterBuffer) Cap() int { return len(j.slots) }

// Stats returns the buffer's counters.
func (j *JitterBuffer) Stats() JitterStats { return j.stats }
