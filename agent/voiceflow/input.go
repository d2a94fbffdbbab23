package voiceflow

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/speech"
)

// heard is what a listen ended with: the request the caller's input
// makes, or an error (the call ended).
type heard struct {
	next *action
	err  error
}

// play plays pcm to the caller. With barge-in on (the default; the
// interruption action turns it off) the caller can cut it short by
// speaking or pressing a key: playback stops at once and what they said
// or pressed is returned as the next request.
func (s *session) play(ctx context.Context, pcm []int16) (*action, error) {
	if len(pcm) == 0 {
		return nil, nil
	}
	if !s.bargeIn {
		return nil, agent.Play(ctx, s.call, pcm)
	}
	pctx, stopPlay := context.WithCancel(ctx)
	defer stopPlay()
	played := make(chan error, 1)
	go func() { played <- agent.Play(pctx, s.call, pcm) }()
	lctx, stopListen := context.WithCancel(ctx)
	defer stopListen()
	var interrupted atomic.Bool
	heardCh := make(chan heard, 1)
	go func() {
		heardCh <- s.listen(lctx, 0, func() {
			interrupted.Store(true)
			stopPlay()
			s.call.ClearAudio()
		})
	}()
	select {
	case err := <-played:
		if interrupted.Load() {
			// Stopped by the caller's voice: what they say is next.
			h := <-heardCh
			return h.next, h.err
		}
		stopListen()
		h := <-heardCh
		if h.next != nil {
			return h.next, nil // a key pressed as playback ended
		}
		return nil, err
	case h := <-heardCh:
		stopPlay()
		if err := <-played; err != nil && !errors.Is(err, context.Canceled) {
			s.log.Debug("prompt ended", "error", err)
		}
		s.call.ClearAudio()
		return h.next, h.err
	}
}

// input waits for the caller's next words or key, or NoInput of
// silence, and returns the request they make.
func (s *session) input(ctx context.Context) (action, error) {
	h := s.listen(ctx, s.a.cfg.NoInput, func() {})
	if h.err != nil {
		return action{}, h.err
	}
	return *h.next, nil
}

// listen hears the caller until an utterance is recognised, a key is
// pressed, noInput passes without speech (if noInput > 0), or ctx ends
// (heard.err). onSpeech runs once, when voice or a key is first noticed.
func (s *session) listen(ctx context.Context, noInput time.Duration, onSpeech func()) heard {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	var results <-chan speech.Transcript
	if rec := s.a.cfg.Recognizer; rec != nil {
		st, err := rec.Start(ctx, speech.RecognizeOptions{Hints: s.hints})
		if err != nil {
			s.log.Warn("speech recognition unavailable; keys only", "error", err)
		} else {
			defer func() { _ = st.Close() }()
			results = st.Results()
			wg.Go(func() { feed(ctx, s.call, st) })
		}
	}
	var timeout <-chan time.Time
	if noInput > 0 {
		t := time.NewTimer(noInput)
		defer t.Stop()
		timeout = t.C
	}
	spoke := false
	speaking := func() {
		if !spoke {
			spoke = true
			// The caller is talking: wait for the words, but not for
			// ever if the recognizer makes nothing of them.
			timeout = time.After(maxUtterance)
			onSpeech()
		}
	}
	for {
		select {
		case d, ok := <-s.call.DTMF():
			if !ok {
				return heard{err: agent.ErrHangup}
			}
			speaking()
			return heard{next: s.keyAction(d)}
		case tr, ok := <-results:
			if !ok {
				results = nil // recognition ended; keys still work
				continue
			}
			if tr.SpeechStarted || tr.Text != "" {
				speaking()
			}
			if tr.Final && tr.Text != "" {
				s.log.Debug("caller said", "text", tr.Text, "confidence", tr.Confidence)
				return heard{next: &action{Type: "text", Payload: tr.Text}}
			}
		case <-timeout:
			return heard{next: &action{Type: s.a.cfg.NoInputEvent}}
		case <-ctx.Done():
			return heard{err: ctx.Err()}
		}
	}
}

// maxUtterance bounds the wait for an utterance's words once the caller
// started speaking.
const maxUtterance = 20 * time.Second

// keyAction is the request a key press makes: Voiceflow's telephony
// convention, a "DTMF 1" event, or the digit as text.
func (s *session) keyAction(d rune) *action {
	if s.a.cfg.DTMFAsText {
		return &action{Type: "text", Payload: string(d)}
	}
	return &action{Type: "DTMF " + string(d)}
}

// feed copies the caller's audio into the recognition stream until ctx
// ends.
func feed(ctx context.Context, call agent.Call, st speech.Stream) {
	frame := make([]int16, agent.FrameSamples)
	for {
		n, err := call.ReadAudio(ctx, frame)
		if err != nil {
			return
		}
		if st.Write(frame[:n]) != nil {
			return
		}
	}
}
