package speech

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/sipagent/sipagent/agent"
)

// Listen defaults.
const (
	// DefaultNoInputTimeout is how long Listen waits for speech to start.
	DefaultNoInputTimeout = 5 * time.Second
	// DefaultMaxSpeechTime is how long Listen waits for a transcript
	// once speech has started (Twilio's maxSpeechTime default).
	DefaultMaxSpeechTime = 60 * time.Second
)

// ListenOptions tune Listen.
type ListenOptions struct {
	// Recognize configures the recognition stream.
	Recognize RecognizeOptions
	// Prompt, if set, plays while Listen listens (a question, a menu)
	// and is cut short - its context cancelled and the call's queued
	// audio cleared - as soon as the caller speaks or presses a key
	// (barge-in). An error from it other than that cancellation ends
	// Listen with the error.
	Prompt func(ctx context.Context) error
	// NoInputTimeout is how long to wait for speech to start, counted
	// from the end of Prompt (or from the start without one); 0 means
	// DefaultNoInputTimeout.
	NoInputTimeout time.Duration
	// MaxSpeechTime bounds the wait for a transcript once speech has
	// started; 0 means DefaultMaxSpeechTime.
	MaxSpeechTime time.Duration
	// OnSpeech, if set, is called once, from Listen's goroutine, when
	// the caller starts to speak: what an agent stops its own playback
	// on. (With Prompt set, Listen has already stopped the prompt.)
	OnSpeech func()
	// DTMF makes a key press end Listen too, with Result.Digit set.
	// Without it Listen leaves the call's DTMF alone.
	DTMF bool
}

// Result is what Listen heard.
type Result struct {
	// Text is the first final transcript; "" if there was none.
	Text string
	// Confidence is the recognizer's, 0-1, or 0 if it gives none.
	Confidence float64
	// Digit is the key that ended Listen (with ListenOptions.DTMF), or 0.
	Digit rune
}

// NoInput says the caller neither said anything recognisable nor pressed
// a key in time.
func (r Result) NoInput() bool { return r.Text == "" && r.Digit == 0 }

// streamErrer is a Stream that can say why it ended early (a dropped
// connection, a failing recognizer).
type streamErrer interface{ Err() error }

// Listen hears the caller out: it reads the call's audio into a
// recognition stream from rec and returns the first final transcript
// with text in it, a key press (with opts.DTMF), or a no-input Result
// when the caller does not start speaking within opts.NoInputTimeout or
// the recognizer has nothing by opts.MaxSpeechTime after speech started.
// A final transcript without text (noise, a cough) waits for speech
// again, NoInputTimeout from then.
//
// Listen returns agent.ErrHangup when the call ends and ctx.Err() when
// ctx does; it stops its goroutines and closes the stream before it
// returns.
func Listen(ctx context.Context, call agent.Call, rec Recognizer, opts ListenOptions) (Result, error) {
	if opts.NoInputTimeout <= 0 {
		opts.NoInputTimeout = DefaultNoInputTimeout
	}
	if opts.MaxSpeechTime <= 0 {
		opts.MaxSpeechTime = DefaultMaxSpeechTime
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := rec.Start(ctx, opts.Recognize)
	if err != nil {
		return Result{}, fmt.Errorf("speech: start recognition: %w", err)
	}
	l := &listener{call: call, stream: stream, opts: opts}
	defer l.finish(cancel)
	return l.run(ctx)
}

// listener is one Listen call.
type listener struct {
	call   agent.Call
	stream Stream
	opts   ListenOptions
	wg     sync.WaitGroup

	stopPrompt context.CancelFunc
	bargedIn   bool
	speaking   bool
	noInput    *time.Timer
	maxSpeech  *time.Timer
}

// finish stops the goroutines (cancel unblocks ReadAudio and the prompt)
// and closes the stream.
func (l *listener) finish(cancel context.CancelFunc) {
	cancel()
	l.wg.Wait()
	_ = l.stream.Close()
	for _, t := range []*time.Timer{l.noInput, l.maxSpeech} {
		if t != nil {
			t.Stop()
		}
	}
}

func (l *listener) run(ctx context.Context) (Result, error) {
	readErr := make(chan error, 1)
	l.wg.Go(func() { readErr <- l.feed(ctx) })

	promptDone := make(chan error, 1)
	if l.opts.Prompt != nil {
		pctx, stop := context.WithCancel(ctx)
		l.stopPrompt = stop
		l.wg.Go(func() {
			defer stop()
			promptDone <- l.opts.Prompt(pctx)
		})
	} else {
		promptDone <- nil
	}

	var dtmf <-chan rune
	if l.opts.DTMF {
		dtmf = l.call.DTMF()
	}
	results := l.stream.Results()
	var noInput, maxSpeech <-chan time.Time
	for {
		select {
		case err := <-promptDone:
			promptDone = nil
			l.stopPrompt = nil
			cutShort := l.bargedIn && errors.Is(err, context.Canceled)
			if err != nil && !cutShort {
				if ctx.Err() != nil {
					return Result{}, ctx.Err()
				}
				return Result{}, err
			}
			if !l.speaking {
				noInput = l.arm(&l.noInput, l.opts.NoInputTimeout)
			}
		case tr, ok := <-results:
			if !ok {
				return Result{}, l.streamEnded(ctx)
			}
			if (tr.SpeechStarted || tr.Text != "") && !l.speaking {
				l.speaking, noInput = true, nil
				maxSpeech = l.arm(&l.maxSpeech, l.opts.MaxSpeechTime)
				l.bargeIn()
				if l.opts.OnSpeech != nil {
					l.opts.OnSpeech()
					l.opts.OnSpeech = nil // once
				}
			}
			if !tr.Final {
				continue
			}
			if text := strings.TrimSpace(tr.Text); text != "" {
				return Result{Text: text, Confidence: tr.Confidence}, nil
			}
			// Nothing recognisable: listen on.
			l.speaking, maxSpeech = false, nil
			if promptDone == nil {
				noInput = l.arm(&l.noInput, l.opts.NoInputTimeout)
			}
		case d, ok := <-dtmf:
			if !ok {
				return Result{}, agent.ErrHangup
			}
			l.bargeIn()
			return Result{Digit: d}, nil
		case err := <-readErr:
			if ctx.Err() != nil {
				return Result{}, ctx.Err()
			}
			if errors.Is(err, agent.ErrHangup) {
				return Result{}, err
			}
			return Result{}, fmt.Errorf("speech: listen: %w", err)
		case <-noInput:
			return Result{}, nil
		case <-maxSpeech:
			return Result{}, nil
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
	}
}

// feed copies the caller's audio into the stream until ReadAudio or
// Write fails (ctx cancelled, call ended, stream closed).
func (l *listener) feed(ctx context.Context) error {
	frame := make([]int16, agent.FrameSamples)
	for {
		n, err := l.call.ReadAudio(ctx, frame)
		if err != nil {
			return err
		}
		if err := l.stream.Write(frame[:n]); err != nil {
			return err
		}
	}
}

// bargeIn stops the prompt, if it is playing, and drops its queued audio.
func (l *listener) bargeIn() {
	if l.stopPrompt == nil || l.bargedIn {
		return
	}
	l.bargedIn = true
	l.stopPrompt()
	l.call.ClearAudio()
}

// arm starts or restarts *t for d and returns its channel.
func (l *listener) arm(t **time.Timer, d time.Duration) <-chan time.Time {
	if *t == nil {
		*t = time.NewTimer(d)
	} else {
		(*t).Reset(d)
	}
	return (*t).C
}

func (l *listener) streamEnded(ctx context.Context) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if se, ok := l.stream.(streamErrer); ok {
		if err := se.Err(); err != nil {
			return fmt.Errorf("%w: %w", ErrStreamEnded, err)
		}
	}
	return ErrStreamEnded
}
