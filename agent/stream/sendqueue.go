package stream

import (
	"sync"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/media"
)

// sendQueueLen is how many messages may wait for the WebSocket: five
// seconds of caller audio. An agent further behind than that gets the
// newest audio rather than stale audio, and sipagent's memory per call
// stays fixed.
const sendQueueLen = 250

// outKind is the kind of a message to the agent.
type outKind uint8

const (
	outMedia outKind = iota
	outConnected
	outStart
	outDTMF
	outMark
	outStop
)

// outItem is one message waiting for the WebSocket. Media is kept as
// mu-law rather than JSON so that the queue is a fixed block of memory
// and numbering is left to the moment of sending (see formatter).
type outItem struct {
	kind  outKind
	n     int    // media: bytes of audio
	ts    uint64 // media: ms of caller audio before this frame
	text  string // dtmf: the digit; mark: the name
	audio [agent.FrameSamples]byte
}

// sendQueue holds the messages to the agent between the goroutines that
// make them (caller audio, DTMF, marks) and the one that writes the
// WebSocket, so a slow agent never blocks the call. It is a ring of
// sendQueueLen items allocated once. When it is full, the oldest media
// frame makes room; events (start, dtmf, mark, stop) are only dropped
// when nothing but events is queued, which takes an agent that has read
// nothing for many seconds.
type sendQueue struct {
	mu       sync.Mutex
	ring     []outItem
	head, n  int
	finished bool          // no more items; the sender closes when empty
	wake     chan struct{} // signalled when an item arrives or on finish

	mediaDropped, eventsDropped uint64
}

func newSendQueue() *sendQueue {
	return &sendQueue{ring: make([]outItem, sendQueueLen), wake: make(chan struct{}, 1)}
}

// pushMedia queues a media message of pcm encoded to mu-law (at most
// agent.FrameSamples samples), ts ms into the stream. It never blocks;
// after finish it does nothing.
func (q *sendQueue) pushMedia(pcm []int16, ts uint64) {
	q.mu.Lock()
	if q.finished {
		q.mu.Unlock()
		return
	}
	it := q.slot()
	if it == nil {
		q.mediaDropped++ // the ring holds nothing but events
		q.mu.Unlock()
		return
	}
	it.kind, it.ts, it.text = outMedia, ts, ""
	it.n = media.PCMU.Encode(it.audio[:], pcm)
	q.mu.Unlock()
	q.signal()
}

// pushEvent queues a message of kind with text (digit or mark name).
// It never blocks; after finish it does nothing. It reports whether the
// message was queued.
func (q *sendQueue) pushEvent(kind outKind, text string) bool {
	q.mu.Lock()
	if q.finished {
		q.mu.Unlock()
		return false
	}
	it := q.slot()
	if it == nil {
		q.eventsDropped++
		q.mu.Unlock()
		return false
	}
	it.kind, it.text, it.n = kind, text, 0
	q.mu.Unlock()
	q.signal()
	return true
}

// slot returns the next free item, making room by dropping the oldest
// media item if the ring is full, or nil if it holds only events. Call
// with q.mu held.
func (q *sendQueue) slot() *outItem {
	if q.n == len(q.ring) && !q.dropOldestMedia() {
		return nil
	}
	it := &q.ring[(q.head+q.n)%len(q.ring)]
	q.n++
	return it
}

// dropOldestMedia removes the oldest media item, shifting the events
// before it up by one, and reports whether there was one. Call with q.mu
// held.
func (q *sendQueue) dropOldestMedia() bool {
	size := len(q.ring)
	for i := range q.n {
		if q.ring[(q.head+i)%size].kind != outMedia {
			continue
		}
		for j := i; j > 0; j-- {
			q.ring[(q.head+j)%size] = q.ring[(q.head+j-1)%size]
		}
		q.head = (q.head + 1) % size
		q.n--
		q.mediaDropped++
		return true
	}
	return false
}

// pop copies the oldest item into dst and reports whether there was one;
// done reports that the queue is empty and finished.
func (q *sendQueue) pop(dst *outItem) (ok, done bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 {
		return false, q.finished
	}
	*dst = q.ring[q.head]
	q.ring[q.head].text = "" // let the string go
	q.head = (q.head + 1) % len(q.ring)
	q.n--
	return true, false
}

// finish refuses further items; the sender sends those queued and stops.
func (q *sendQueue) finish() {
	q.mu.Lock()
	q.finished = true
	q.mu.Unlock()
	q.signal()
}

// dropped returns the counts of items dropped for want of room.
func (q *sendQueue) dropped() (mediaFrames, events uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.mediaDropped, q.eventsDropped
}

func (q *sendQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}
