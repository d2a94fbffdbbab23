package media

// sampleRing is a fixed-size FIFO of PCM samples. It backs both the
// playout queue and the queue of received frames. Not safe for concurrent
// use; it allocates only in newSampleRing.
type sampleRing struct {
	buf  []int16
	head int // index of the oldest sample
	n    int // samples held
}

func newSampleRing(size int) sampleRing { return sampleRing{buf: make([]int16, size)} }

func (r *sampleRing) len() int  { return r.n }
func (r *sampleRing) free() int { return len(r.buf) - r.n }

// write appends as much of p as fits and returns how much that was.
func (r *sampleRing) write(p []int16) int {
	p = p[:min(len(p), r.free())]
	tail := (r.head + r.n) % len(r.buf)
	k := copy(r.buf[tail:], p)
	copy(r.buf, p[k:])
	r.n += len(p)
	return len(p)
}

// read moves up to len(p) of the oldest samples into p and returns how
// many it moved.
func (r *sampleRing) read(p []int16) int {
	p = p[:min(len(p), r.n)]
	k := copy(p, r.buf[r.head:])
	copy(p[k:], r.buf)
	r.discard(len(p))
	return len(p)
}

// discard drops the n oldest samples (all if fewer are held).
func (r *sampleRing) discard(n int) {
	n = min(n, r.n)
	r.head = (r.head + n) % len(r.buf)
	r.n -= n
}

func (r *sampleRing) reset() { r.head, r.n = 0, 0 }
