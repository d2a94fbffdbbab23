package media

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
)

// A jitter step pushes (push >= 0) or pops (push < 0). Payloads carry
// their sequence number, so a pop can say which packet came out.
type jitterStep struct {
	push int    // sequence number to push, or -1 to pop
	ts   uint32 // timestamp; 0 means seq*160
	size int    // payload size; 0 means 2
	want string // push: a PushResult; pop: a sequence number, "missing" or "empty"
}

func push(seq int, want string) jitterStep { return jitterStep{push: seq, want: want} }
func pop(want string) jitterStep           { return jitterStep{push: -1, want: want} }

func runJitter(t *testing.T, j *JitterBuffer, steps []jitterStep) {
	t.Helper()
	buf := make([]byte, MaxPayloadSize)
	for i, s := range steps {
		if s.push >= 0 {
			ts := s.ts
			if ts == 0 {
				ts = uint32(s.push) * 160
			}
			p := make([]byte, max(s.size, 2))
			binary.BigEndian.PutUint16(p, uint16(s.push))
			if got := j.Push(uint16(s.push), ts, p).String(); got != s.want {
				t.Fatalf("step %d: push %d = %s, want %s", i, s.push, got, s.want)
			}
			continue
		}
		n, st := j.Pop(buf)
		got := st.String()
		if st == PopPacket {
			got = fmt.Sprint(binary.BigEndian.Uint16(buf[:n]))
		}
		if got != s.want {
			t.Fatalf("step %d: pop = %s, want %s", i, got, s.want)
		}
	}
}

const acc, dup, late = "accepted", "duplicate", "late"

func TestJitterBuffer(t *testing.T) {
	tests := []struct {
		name  string
		depth int
		steps []jitterStep
		stats JitterStats
	}{
		{"in order", 3, []jitterStep{
			push(10, acc), push(11, acc), pop("empty"), push(12, acc),
			pop("10"), pop("11"), pop("12"), pop("empty"),
		}, JitterStats{Pushed: 3, Underruns: 1}},
		{"reordered", 3, []jitterStep{
			push(10, acc), push(12, acc), push(11, acc), push(14, acc), push(13, acc),
			pop("10"), pop("11"), pop("12"), pop("13"), pop("14"),
		}, JitterStats{Pushed: 5}},
		{"reordered before playout", 3, []jitterStep{
			push(11, acc), push(12, acc), push(10, acc), pop("10"), pop("11"), pop("12"),
		}, JitterStats{Pushed: 3}},
		{"duplicate", 3, []jitterStep{
			push(10, acc), push(10, dup), push(11, acc), push(12, acc), push(11, dup),
			pop("10"), push(10, late), pop("11"),
		}, JitterStats{Pushed: 3, Duplicates: 2, Late: 1}},
		{"late", 3, []jitterStep{
			push(10, acc), push(11, acc), push(12, acc), pop("10"), pop("11"),
			push(9, late), push(11, late), push(13, acc), pop("12"), pop("13"),
		}, JitterStats{Pushed: 4, Late: 2}},
		{"loss is reported once per packet", 3, []jitterStep{
			push(10, acc), push(13, acc), push(14, acc),
			pop("10"), pop("missing"), pop("missing"), pop("13"), pop("14"),
		}, JitterStats{Pushed: 3, Lost: 2}},
		{"late arrival fills a hole", 3, []jitterStep{
			push(10, acc), push(12, acc), push(13, acc), pop("10"), push(11, acc), pop("11"), pop("12"),
		}, JitterStats{Pushed: 4}},
		{"sequence wrap", 3, []jitterStep{
			push(65534, acc), push(0, acc), push(65535, acc), push(1, acc),
			pop("65534"), pop("65535"), pop("0"), pop("1"), push(65535, late),
		}, JitterStats{Pushed: 4, Late: 1}},
		{"timestamp wrap", 2, []jitterStep{
			{push: 7, ts: 0xffffff60, want: acc}, {push: 8, ts: 0, want: acc}, {push: 9, ts: 160, want: acc},
			{push: 8, ts: 0, want: dup}, pop("7"), pop("8"), pop("9"),
		}, JitterStats{Pushed: 3, Duplicates: 1}},
		{"too big", 1, []jitterStep{
			{push: 5, size: MaxPayloadSize + 1, want: "too big"}, {push: 6, size: MaxPayloadSize, want: acc}, pop("6"),
		}, JitterStats{Pushed: 1, TooBig: 1}},
		{"jump beyond capacity restarts", 3, []jitterStep{
			push(10, acc), push(11, acc), push(12, acc), pop("10"),
			push(5000, acc), pop("empty"), push(5001, acc), push(5002, acc), pop("5000"),
		}, JitterStats{Pushed: 6, Resets: 1, Dropped: 2}},
		{"jump within capacity skips instead of concealing", 3, []jitterStep{
			push(10, acc), push(11, acc), push(12, acc), pop("10"), push(40, acc), push(41, acc),
			pop("11"), pop("12"), pop("40"), pop("41"),
		}, JitterStats{Pushed: 5, Lost: 27}},
		{"new talkspurt after running dry", 3, []jitterStep{
			push(10, acc), push(11, acc), push(12, acc), pop("10"), pop("11"), pop("12"), pop("empty"),
			push(20, acc), push(21, acc), pop("empty"), push(22, acc), pop("20"), push(19, late),
		}, JitterStats{Pushed: 6, Lost: 7, Late: 1, Underruns: 1}},
		{"same sequence, new timestamp restarts", 2, []jitterStep{
			push(10, acc), {push: 11, ts: 99999, want: acc}, {push: 11, ts: 5, want: acc}, pop("empty"),
			push(12, acc), pop("11"), pop("12"),
		}, JitterStats{Pushed: 4, Resets: 1, Dropped: 2}},
		{"backward restart after a run of late packets", 1, []jitterStep{
			push(100, acc), pop("100"),
			push(91, late), push(92, late), push(93, late), push(94, late), push(95, late), push(96, late), push(97, late),
			push(98, acc), pop("98"), push(99, acc), pop("99"),
		}, JitterStats{Pushed: 3, Late: 7, Resets: 1}},
		{"backlog is trimmed", 3, []jitterStep{ // high water 8
			push(10, acc), push(11, acc), push(12, acc), push(13, acc), push(14, acc),
			push(15, acc), push(16, acc), push(17, acc), push(18, acc),
			pop("11"), pop("12"), pop("13"),
		}, JitterStats{Pushed: 9, Dropped: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := NewJitterBuffer(tt.depth, 0)
			runJitter(t, j, tt.steps)
			if got := j.Stats(); got != tt.stats {
				t.Errorf("stats = %+v\n        want %+v", got, tt.stats)
			}
		})
	}
}

func TestJitterBufferReset(t *testing.T) {
	j := NewJitterBuffer(2, 0)
	runJitter(t, j, []jitterStep{push(10, acc), push(11, acc), pop("10")})
	j.Reset()
	if j.Len() != 0 {
		t.Fatalf("Len = %d after Reset", j.Len())
	}
	// Anything goes after a reset, even an older sequence number.
	runJitter(t, j, []jitterStep{push(3, acc), pop("empty"), push(4, acc), pop("3"), pop("4"), pop("empty")})
	if s := j.Stats(); s.Resets != 1 || s.Dropped != 1 {
		t.Fatalf("stats = %+v", s)
	}
}

func TestJitterBufferDefaults(t *testing.T) {
	j := NewJitterBuffer(0, 0)
	if j.Cap() != DefaultJitterCapacity || j.depth != DefaultJitterDepth {
		t.Fatalf("cap %d depth %d", j.Cap(), j.depth)
	}
	if j := NewJitterBuffer(50, 50); j.Cap() != 52 {
		t.Fatalf("cap %d, want 52", j.Cap())
	}
}

func TestJitterBufferAllocatesNothing(t *testing.T) {
	j := NewJitterBuffer(3, 0)
	payload := make([]byte, 160)
	dst := make([]byte, MaxPayloadSize)
	seq := uint16(0)
	allocs := testing.AllocsPerRun(1000, func() {
		j.Push(seq, uint32(seq)*160, payload)
		seq++
		j.Pop(dst)
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per push+pop", allocs)
	}
}

// oldestHeld returns the serially smallest key of held.
func oldestHeld(held map[uint16]byte) uint16 {
	var o uint16
	first := true
	for seq := range held {
		if first || int16(seq-o) < 0 {
			o, first = seq, false
		}
	}
	return o
}

// FuzzJitterBuffer feeds random pushes, pops and resets and checks that
// the buffer never panics, never holds more than its capacity, never
// plays a packet twice or out of order between resets, and plays each
// packet's own payload.
func FuzzJitterBuffer(f *testing.F) {
	f.Add([]byte{0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 200, 0, 0, 0, 200, 0, 0, 0})
	f.Add([]byte{0, 0xff, 0xff, 10, 0, 0, 0, 10, 0, 0, 1, 10, 200, 0, 0, 0, 255, 0, 0, 0})
	f.Add([]byte{1, 0x80, 0, 0, 0, 0x7f, 0xff, 0, 220, 0, 0, 0, 0, 0x80, 1, 250})
	f.Fuzz(func(t *testing.T, ops []byte) {
		j := NewJitterBuffer(int(len(ops)%5), 12)
		dst := make([]byte, MaxPayloadSize)
		held := map[uint16]byte{} // accepted and not yet played: seq -> payload tag
		var last uint16
		lastValid := false
		resets := uint64(0)
		for i := 0; i+4 <= len(ops); i += 4 {
			op, a, b, c := ops[i], ops[i+1], ops[i+2], ops[i+3]
			switch {
			case op < 200: // push: relative or absolute sequence number
				seq := uint16(a)<<8 | uint16(b)
				if op&1 == 0 {
					seq = last + uint16(int8(a))
				}
				size := 3 + int(c)*2 // up to 513: sometimes too big
				p := make([]byte, size)
				binary.BigEndian.PutUint16(p, seq)
				p[2] = c
				r := j.Push(seq, uint32(seq)*160+uint32(op&0xf0), p)
				if r == PushAccepted {
					if j.Stats().Resets != resets {
						clear(held)
					}
					held[seq] = c
				}
			case op < 250: // pop
				dropped := j.Stats().Dropped
				n, st := j.Pop(dst)
				if j.Stats().Dropped != dropped {
					delete(held, oldestHeld(held))
				}
				if st != PopPacket {
					if n != 0 {
						t.Fatalf("%s with n = %d", st, n)
					}
					continue
				}
				seq := binary.BigEndian.Uint16(dst)
				tag, ok := held[seq]
				if !ok || dst[2] != tag || n != 3+int(tag)*2 {
					t.Fatalf("popped %d (tag %d, %d bytes), not held as such", seq, dst[2], n)
				}
				delete(held, seq)
				if s := j.Stats(); s.Resets == resets && lastValid && int16(seq-last) <= 0 {
					t.Fatalf("popped %d after %d", seq, last)
				}
				last, lastValid = seq, true
			default:
				j.Reset()
				clear(held)
			}
			if s := j.Stats(); s.Resets != resets {
				resets = s.Resets
				lastValid = false
			}
			if j.Len() > j.Cap() || j.Len() != len(held) {
				t.Fatalf("Len %d, Cap %d, held %d", j.Len(), j.Cap(), len(held))
			}
		}
	})
}

// Events numbered in the audio's sequence (as baresip sends them) hold
// their places: no loss is counted, nothing is concealed, and the audio
// around them plays in order with no added delay.
func TestJitterBufferEventsInAudioSequence(t *testing.T) {
	j := NewJitterBuffer(2, 16)
	dst := make([]byte, MaxPayloadSize)
	var played []byte
	for i := uint16(0); i < 20; i++ {
		seq := 1000 + i
		if i >= 6 && i < 14 && i%2 == 1 {
			j.PushEvent(seq, 3200)
		} else {
			j.Push(seq, uint32(i)*160, []byte{byte(i)})
		}
		if n, st := j.Pop(dst); st == PopPacket {
			if n != 1 {
				t.Fatalf("popped %d bytes", n)
			}
			played = append(played, dst[0])
		} else if st == PopMissing {
			t.Fatalf("seq %d: PopMissing: an event place was taken for loss", seq)
		}
	}
	for {
		n, st := j.Pop(dst)
		if st != PopPacket {
			break
		}
		played = append(played, dst[:n]...)
	}
	want := []byte{0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 15, 16, 17, 18, 19}
	if !bytes.Equal(played, want) {
		t.Errorf("played %v, want %v", played, want)
	}
	if st := j.Stats(); st.Lost != 0 {
		t.Errorf("Lost = %d, want 0", st.Lost)
	}
}
