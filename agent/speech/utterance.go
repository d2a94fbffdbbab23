package speech

import (
	"context"
	"sync"
	"time"

	"github.com/sipagent/sipagent/agent"
)

// Utterance queue bounds.
const (
	// DefaultUtteranceQueue is how many finished utterances may wait for
	// a recognizer that is still busy with an earlier one.
	DefaultUtteranceQueue = 2
	// preRoll is the audio kept from before speech starts, so that the
	// recognizer hears the first sound whole (the VAD needs MinSpeech of
	// it to decide).
	preRoll = 300 * time.Millisecond
	// resultsBuffer is the room in Results for transcripts nobody has
	// read yet; SpeechStarted is dropped when it is full.
	resultsBuffer = 16
)

// recognizeFunc turns one utterance (8 kHz) into text.
type recognizeFunc func(ctx context.Context, pcm []int16) (text string, confidence float64, err error)

// UtteranceStream is a Stream for recognizers that take a whole
// utterance at a time (a program run per utterance): a VAD cuts the
// audio into utterances, announces each with a SpeechStarted transcript,
// and a worker goroutine recognises them in turn, one Final each.
// Utterances that end while DefaultUtteranceQueue (or the configured
// queue) others wait are dropped and counted.
type UtteranceStream struct {
	recognize recognizeFunc
	onError   func(error)
	ctx       context.Context
	cancel    context.CancelFunc
	queue     chan []int16
	results   chan Transcript
	done      chan struct{} // closed when the worker has exited
	closeOnce sync.Once

	mu      sync.Mutex // guards the fields below
	closed  bool
	vad     *VAD
	partial []int16 // samples short of a whole frame
	pre     []int16 // the last preRoll of audio, out of speech
	utter   []int16 // the utterance going on
	dropped int
}

var _ Stream = (*UtteranceStream)(nil)

// newUtteranceStream starts the worker; recognize runs on it, onError
// (may be nil) hears its failures.
func newUtteranceStream(ctx context.Context, vad VADConfig, queue int, recognize recognizeFunc, onError func(error)) *UtteranceStream {
	ctx, cancel := context.WithCancel(ctx)
	s := &UtteranceStream{
		recognize: recognize,
		onError:   onError,
		ctx:       ctx,
		cancel:    cancel,
		queue:     make(chan []int16, max(queue, 1)),
		results:   make(chan Transcript, resultsBuffer),
		done:      make(chan struct{}),
		vad:       NewVAD(vad),
	}
	go s.work()
	return s
}

// Write feeds audio to the VAD; it never waits for recognition.
func (s *UtteranceStream) Write(pcm []int16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrStreamClosed
	}
	if len(s.partial) > 0 {
		need := agent.FrameSamples - len(s.partial)
		if len(pcm) < need {
			s.partial = append(s.partial, pcm...)
			return nil
		}
		s.partial = append(s.partial, pcm[:need]...)
		pcm = pcm[need:]
		s.frame(s.partial)
		s.partial = s.partial[:0]
	}
	for len(pcm) >= agent.FrameSamples {
		s.frame(pcm[:agent.FrameSamples])
		pcm = pcm[agent.FrameSamples:]
	}
	s.partial = append(s.partial, pcm...)
	return nil
}

// frame runs one frame through the VAD; s.mu is held.
func (s *UtteranceStream) frame(f []int16) {
	ev := s.vad.Frame(f)
	if !s.vad.InSpeech() && ev == VADNone {
		s.pre = append(s.pre, f...)
		if over := len(s.pre) - samples(preRoll); over > 0 {
			s.pre = append(s.pre[:0], s.pre[over:]...)
		}
		return
	}
	switch ev {
	case VADStart:
		s.utter = append(append(s.utter[:0:0], s.pre...), f...)
		s.pre = s.pre[:0]
		select {
		case s.results <- Transcript{SpeechStarted: true}:
		default: // nobody reads; the Final still comes
		}
	case VADEnd, VADCut:
		s.utter = append(s.utter, f...)
		select {
		case s.queue <- s.utter:
		default:
			s.dropped++
		}
		s.utter = nil
	default:
		s.utter = append(s.utter, f...)
	}
}

// work recognises queued utterances until the stream closes.
func (s *UtteranceStream) work() {
	defer func() {
		s.mu.Lock()
		s.closed = true
		close(s.results)
		s.mu.Unlock()
		close(s.done)
	}()
	for {
		select {
		case pcm := <-s.queue:
			text, conf, err := s.recognize(s.ctx, pcm)
			if s.ctx.Err() != nil {
				return
			}
			if err != nil && s.onError != nil {
				s.onError(err)
			}
			// A failed utterance still ends: an empty Final says so.
			select {
			case s.results <- Transcript{Text: text, Final: true, Confidence: conf}:
			case <-s.ctx.Done():
				return
			}
		case <-s.ctx.Done():
			return
		}
	}
}

// Results delivers SpeechStarted and one Final per utterance.
func (s *UtteranceStream) Results() <-chan Transcript { return s.results }

// Close stops recognition (a running program is killed) and waits for
// the worker to exit; Results is closed by then.
func (s *UtteranceStream) Close() error {
	s.closeOnce.Do(s.cancel)
	<-s.done
	return nil
}

// Dropped is how many utterances were dropped because the recognizer was
// behind.
func (s *UtteranceStream) Dropped() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}
