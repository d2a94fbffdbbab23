package stream

import (
	"context"
	"slices"
	"sync"

	"github.com/sipagent/sipagent/agent"
)

// Bounds on what an agent may have waiting in sipagent. An agent may send
// audio much faster than real time (a TTS engine often does); the call
// takes it at real time, so the rest waits here.
const (
	// MaxQueuedAudio is how much of the agent's audio may wait to be
	// played, in samples: 60 seconds. Audio beyond it is dropped and
	// counted (Stats.SamplesDropped).
	MaxQueuedAudio = 60 * agent.SampleRate
	// MaxPendingMarks is how many marks may wait for their audio to be
	// played. Marks beyond it are dropped and counted
	// (Stats.MarksDropped).
	MaxPendingMarks = 1024
	// maxChunk bounds the joining of consecutive media messages into
	// one chunk of audio, so that an agent that sends tiny messages
	// costs neither a WriteAudio nor a queue entry each. (A single
	// larger message stays whole; a clear interrupts it midway.)
	maxChunk = agent.SampleRate / 2
)

// playItem is a chunk of the agent's audio or a mark.
type playItem struct {
	pcm    []int16
	mark   string
	isMark bool
}

// playout holds the agent's audio and marks, in the order the agent sent
// them, between the goroutine reading the WebSocket and the one writing
// the call (run).
//
// Marks are kept exactly: run writes the audio before a mark, then waits
// for the call to have played everything queued (agent.Call.WaitPlayed),
// which is exactly that audio since nothing after the mark has been
// written yet, and only then returns the mark. The price is that the
// call's playout queue runs dry at each mark, so the audio after a mark
// starts up to one packet (20 ms) late; agents mark sentence or turn
// boundaries, where that gap is not heard. Tracking the play position
// of each sample instead would need a call interface that reports it.
type playout struct {
	mu       sync.Mutex
	items    []playItem // items[0] is next
	samples  int        // audio samples in items
	marks    int        // marks in items
	epoch    uint64     // counts clears, so run can tell one happened
	draining bool       // no more items will come; run ends when empty
	wake     chan struct{}

	samplesDropped, marksDropped uint64
}

func newPlayout() *playout { return &playout{wake: make(chan struct{}, 1)} }

// pushAudio queues a copy of pcm, or drops it all if that would take
// the queue past MaxQueuedAudio. It reports whether pcm was queued.
func (p *playout) pushAudio(pcm []int16) bool {
	if len(pcm) == 0 {
		return true
	}
	p.mu.Lock()
	if p.samples+len(pcm) > MaxQueuedAudio {
		p.samplesDropped += uint64(len(pcm))
		p.mu.Unlock()
		return false
	}
	p.samples += len(pcm)
	if n := len(p.items); n > 0 && !p.items[n-1].isMark && len(p.items[n-1].pcm)+len(pcm) <= maxChunk {
		// The last item is not yet taken by run (taking removes it), so
		// it may grow.
		p.items[n-1].pcm = append(p.items[n-1].pcm, pcm...)
	} else {
		p.items = append(p.items, playItem{pcm: slices.Clone(pcm)})
	}
	p.mu.Unlock()
	p.signal()
	return true
}

// pushMark queues a mark, or drops it if MaxPendingMarks are queued. It
// reports whether the mark was queued.
func (p *playout) pushMark(name string) bool {
	p.mu.Lock()
	if p.marks >= MaxPendingMarks {
		p.marksDropped++
		p.mu.Unlock()
		return false
	}
	p.marks++
	p.items = append(p.items, playItem{mark: name, isMark: true})
	p.mu.Unlock()
	p.signal()
	return true
}

// clear drops everything queued and returns the names of the marks
// dropped, in order, for the caller to send back as Twilio does. The
// caller then clears the call; run notices the clear by the epoch.
func (p *playout) clear() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var marks []string
	for _, it := range p.items {
		if it.isMark {
			marks = append(marks, it.mark)
		}
	}
	p.items, p.samples, p.marks = nil, 0, 0
	p.epoch++
	return marks
}

// drain tells run that nothing more will be queued: it plays what is
// queued, waits for it to be played, and returns.
func (p *playout) drain() {
	p.mu.Lock()
	p.draining = true
	p.mu.Unlock()
	p.signal()
}

// dropped returns the counts of audio samples and marks dropped for
// want of room.
func (p *playout) dropped() (samples, marks uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.samplesDropped, p.marksDropped
}

// next returns the next item and the epoch it was taken in. Audio is
// taken off the queue; a mark stays at its head until run has waited for
// it, so that a clear meanwhile returns it (and run then does not). ok is
// false if the queue is empty; done is true if it is empty and draining.
func (p *playout) next() (it playItem, epoch uint64, ok, done bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.items) == 0 {
		return playItem{}, p.epoch, false, p.draining
	}
	it = p.items[0]
	if !it.isMark {
		p.popLocked()
		p.samples -= len(it.pcm)
	}
	return it, p.epoch, true, false
}

// takeMark removes the mark at the head of the queue and reports true,
// unless a clear since epoch has already removed (and returned) it.
func (p *playout) takeMark(epoch uint64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.epoch != epoch {
		return false
	}
	p.popLocked()
	p.marks--
	return true
}

// clearedSince reports whether a clear happened since epoch.
func (p *playout) clearedSince(epoch uint64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.epoch != epoch
}

// popLocked removes items[0]. Call with p.mu held.
func (p *playout) popLocked() {
	p.items[0] = playItem{} // let the audio go
	p.items = p.items[1:]
	if len(p.items) == 0 {
		p.items = nil // start the next burst on a fresh array
	}
}

func (p *playout) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// run writes the queued audio to call, paced by WriteAudio blocking while
// the call's playout queue is full, and at each mark waits for the audio
// before it to be played and calls sendMark. It returns when ctx is done,
// when the call fails (agent.ErrHangup), or once drained and played.
func (p *playout) run(ctx context.Context, call agent.Call, sendMark func(name string)) error {
	for {
		it, epoch, ok, done := p.next()
		switch {
		case done:
			return call.WaitPlayed(ctx)
		case !ok:
			select {
			case <-p.wake:
			case <-ctx.Done():
				return ctx.Err()
			}
		case it.isMark:
			// A clear makes WaitPlayed return at once, the call's
			// queue being empty then.
			if err := call.WaitPlayed(ctx); err != nil {
				return err
			}
			if p.takeMark(epoch) {
				sendMark(it.mark)
			}
		default:
			// A clear makes a blocked WriteAudio return. A clear that
			// came after next took this chunk but before WriteAudio
			// queued it has cleared the call too early, so clear
			// again: the chunk was written before the clear was asked
			// for and must not be heard (at most a packet of it may
			// have gone out meanwhile).
			err := call.WriteAudio(ctx, it.pcm)
			if p.clearedSince(epoch) {
				call.ClearAudio()
			}
			if err != nil {
				return err
			}
		}
	}
}
