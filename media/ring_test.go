package media

import (
	"slices"
	"testing"
)

func TestSampleRing(t *testing.T) {
	r := newSampleRing(5)
	if n := r.write([]int16{1, 2, 3}); n != 3 || r.len() != 3 || r.free() != 2 {
		t.Fatalf("write = %d, len %d, free %d", n, r.len(), r.free())
	}
	out := make([]int16, 2)
	if n := r.read(out); n != 2 || !slices.Equal(out, []int16{1, 2}) {
		t.Fatalf("read = %d %v", n, out)
	}
	// Wrap around the end of the buffer.
	if n := r.write([]int16{4, 5, 6, 7, 8}); n != 4 {
		t.Fatalf("write = %d, want 4 (full)", n)
	}
	out = make([]int16, 9)
	if n := r.read(out); n != 5 || !slices.Equal(out[:n], []int16{3, 4, 5, 6, 7}) {
		t.Fatalf("read = %d %v", n, out[:n])
	}
	if n := r.read(out); n != 0 {
		t.Fatalf("read from empty = %d", n)
	}
	r.write([]int16{9, 10, 11})
	r.discard(2)
	if n := r.read(out); n != 1 || out[0] != 11 {
		t.Fatalf("after discard: %d %v", n, out[:n])
	}
	r.write([]int16{1, 2})
	r.reset()
	if r.len() != 0 || r.free() != 5 {
		t.Fatalf("after reset len %d", r.len())
	}
	r.discard(10)
	if r.len() != 0 {
		t.Fatal("discard past empty")
	}
}

func TestSampleRingKeepsOrder(t *testing.T) {
	r := newSampleRing(7)
	next, want := int16(0), int16(0)
	in, out := make([]int16, 5), make([]int16, 3)
	for range 100 {
		for i := range in {
			in[i] = next + int16(i)
		}
		next += int16(r.write(in))
		n := r.read(out)
		for _, s := range out[:n] {
			if s != want {
				t.Fatalf("got %d, want %d", s, want)
			}
			want++
		}
	}
}
