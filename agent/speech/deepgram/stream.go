package deepgram

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/sipagent/sipagent/agent/speech"
)

// Stream buffers.
const (
	// audioQueue is how many writes may wait for the connection: a
	// second of 20 ms frames. Audio beyond it is dropped and counted.
	audioQueue = 50
	// resultsBuffer is the room in Results for unread transcripts.
	resultsBuffer = 32
)

// Stream is one Deepgram live transcription session.
type Stream struct {
	conn    *websocket.Conn
	cfg     Config
	log     *slog.Logger
	ctx     context.Context
	cancel  context.CancelFunc
	audio   chan []byte
	results chan speech.Transcript
	closing chan struct{} // closed by Close
	readEnd chan struct{} // closed when the reader has exited
	once    sync.Once
	wg      sync.WaitGroup

	mu      sync.Mutex // guards the fields below
	ended   bool
	dropped int // samples
	err     error

	// Utterance state, the reader's alone.
	finals  []string
	confSum float64
	started bool // SpeechStarted sent for the utterance going on
}

var _ speech.Stream = (*Stream)(nil)

func newStream(ctx context.Context, conn *websocket.Conn, cfg Config, log *slog.Logger) *Stream {
	ctx, cancel := context.WithCancel(ctx)
	s := &Stream{
		conn:    conn,
		cfg:     cfg,
		log:     log,
		ctx:     ctx,
		cancel:  cancel,
		audio:   make(chan []byte, audioQueue),
		results: make(chan speech.Transcript, resultsBuffer),
		closing: make(chan struct{}),
		readEnd: make(chan struct{}),
	}
	s.wg.Go(s.send)
	s.wg.Go(s.receive)
	return s
}

// Write queues audio for the connection as little-endian 16-bit PCM
// (encoding=linear16). It never blocks: when the connection lags a
// second behind, audio is dropped and counted (Dropped).
func (s *Stream) Write(pcm []int16) error {
	if len(pcm) == 0 {
		return nil
	}
	b := make([]byte, 2*len(pcm))
	for i, v := range pcm {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return speech.ErrStreamClosed
	}
	select {
	case s.audio <- b:
	default:
		s.dropped += len(pcm)
	}
	return nil
}

// Results delivers transcripts; it is closed when the stream ends.
func (s *Stream) Results() <-chan speech.Transcript { return s.results }

// Err says why the stream ended, if the server or the connection ended
// it: nil after Close or a cancelled context.
func (s *Stream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Dropped is how many samples were dropped because the connection lagged.
func (s *Stream) Dropped() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// Close sends CloseStream, gives the server CloseTimeout to finish and
// close the connection, then closes it and waits for the stream's
// goroutines. Transcripts the server sends meanwhile are discarded.
func (s *Stream) Close() error {
	s.once.Do(func() {
		close(s.closing)
		t := time.NewTimer(s.cfg.CloseTimeout)
		select {
		case <-s.readEnd:
		case <-t.C:
		case <-s.ctx.Done():
		}
		t.Stop()
		s.cancel()
		s.wg.Wait()
		_ = s.conn.CloseNow()
	})
	return nil
}

// send writes audio, KeepAlive when idle, and CloseStream on Close.
func (s *Stream) send() {
	idle := time.NewTimer(s.cfg.KeepAlive)
	defer idle.Stop()
	for {
		select {
		case b := <-s.audio:
			if err := s.conn.Write(s.ctx, websocket.MessageBinary, b); err != nil {
				s.fail(fmt.Errorf("deepgram: send audio: %w", err))
				return
			}
			idle.Reset(s.cfg.KeepAlive)
		case <-idle.C:
			if err := s.conn.Write(s.ctx, websocket.MessageText, []byte(msgKeepAlive)); err != nil {
				s.fail(fmt.Errorf("deepgram: send KeepAlive: %w", err))
				return
			}
			idle.Reset(s.cfg.KeepAlive)
		case <-s.closing:
			if err := s.conn.Write(s.ctx, websocket.MessageText, []byte(msgCloseStream)); err != nil {
				s.log.Debug("deepgram: CloseStream not sent", "error", err)
			}
			return
		case <-s.ctx.Done():
			return
		}
	}
}

// receive reads the server's messages into transcripts until the
// connection ends.
func (s *Stream) receive() {
	defer func() {
		s.mu.Lock()
		s.ended = true
		close(s.results)
		s.mu.Unlock()
		close(s.readEnd)
	}()
	for {
		typ, b, err := s.conn.Read(s.ctx)
		if err != nil {
			s.readFailed(err)
			return
		}
		if typ != websocket.MessageText {
			continue
		}
		ev, err := decode(b)
		if err != nil {
			s.log.Debug("deepgram: message skipped", "error", err)
			continue
		}
		for _, tr := range s.handle(ev) {
			select {
			case s.results <- tr:
			case <-s.closing: // closing: nobody wants them
			case <-s.ctx.Done():
				return
			}
		}
	}
}

// readFailed records why the connection ended, unless it was ours to end.
func (s *Stream) readFailed(err error) {
	select {
	case <-s.closing:
		return // Close asked for it: the server closing is the answer
	default:
	}
	if s.ctx.Err() != nil {
		return
	}
	if st := websocket.CloseStatus(err); st != -1 {
		var ce websocket.CloseError
		reason := ""
		if errors.As(err, &ce) {
			reason = ce.Reason // Deepgram puts e.g. NET-0001 here
		}
		err = fmt.Errorf("deepgram: server closed the stream: %v %s", st, reason)
	} else {
		err = fmt.Errorf("deepgram: read: %w", err)
	}
	s.fail(err)
}

// fail records the first error that ends the stream and stops it.
func (s *Stream) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
	s.log.Warn("deepgram stream failed", "error", err)
	s.cancel()
}

// handle turns a server event into transcripts. Deepgram splits an
// utterance into is_final segments and marks the last speech_final
// (docs/understanding-end-of-speech-detection); UtteranceEnd ends one
// whose speech_final never came. The Final carries the segments joined,
// with their mean confidence.
func (s *Stream) handle(ev event) []speech.Transcript {
	var out []speech.Transcript
	switch ev.kind {
	case typeSpeechStarted:
		if !s.started {
			s.started = true
			out = append(out, speech.Transcript{SpeechStarted: true})
		}
	case typeResults:
		if ev.text != "" && !s.started {
			// Text without a SpeechStarted (vad_events missed it):
			// announce the speech first, as Stream promises.
			s.started = true
			out = append(out, speech.Transcript{SpeechStarted: true})
		}
		if ev.isFinal && ev.text != "" {
			s.finals = append(s.finals, ev.text)
			s.confSum += ev.confidence
		}
		switch {
		case ev.speechFinal:
			out = append(out, s.finish()...)
		case ev.isFinal && ev.text != "":
			out = append(out, speech.Transcript{Text: strings.Join(s.finals, " ")})
		case ev.text != "":
			out = append(out, speech.Transcript{Text: strings.Join(append(s.finals[:len(s.finals):len(s.finals)], ev.text), " ")})
		}
	case typeUtteranceEnd:
		out = append(out, s.finish()...)
	case typeError:
		s.log.Warn("deepgram: error message", "error", ev.errText)
		s.mu.Lock()
		if s.err == nil {
			s.err = fmt.Errorf("deepgram: %s", ev.errText)
		}
		s.mu.Unlock()
	}
	return out
}

// finish ends the utterance going on: a Final with what was finalised,
// or an empty one if speech started but nothing was made of it. With no
// utterance going on it gives nothing.
func (s *Stream) finish() []speech.Transcript {
	if !s.started && len(s.finals) == 0 {
		return nil
	}
	tr := speech.Transcript{Final: true, Text: strings.Join(s.finals, " ")}
	if n := len(s.finals); n > 0 {
		tr.Confidence = s.confSum / float64(n)
	}
	s.finals, s.confSum, s.started = nil, 0, false
	return []speech.Transcript{tr}
}
