package twiml

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/speech"
)

// gatherInput runs g and returns the parameters its action gets: Digits,
// or SpeechResult and Confidence (with Digits too if a key came after
// speech was given up for keys). It returns nil when nothing was entered,
// and the document goes on.
func (s *session) gatherInput(ctx context.Context, g *Gather) (url.Values, error) {
	switch {
	case g.Speech == nil:
		return digitParams(s.gatherDigits(ctx, g, 0))
	case s.a.cfg.Recognizer == nil && g.Speech.DTMF:
		s.log.Warn(`<Gather input="dtmf speech">: no speech recognizer configured; collecting keys only`)
		return digitParams(s.gatherDigits(ctx, g, 0))
	case s.a.cfg.Recognizer == nil:
		s.log.Warn(`<Gather input="speech"> skipped: no speech recognizer configured`)
		return nil, nil
	}
	return s.gatherSpeech(ctx, g)
}

func digitParams(digits string, err error) (url.Values, error) {
	if err != nil || digits == "" {
		return nil, err
	}
	return url.Values{"Digits": {digits}}, nil
}

// gatherSpeech listens while the prompts play, as <Gather input="speech">
// does: the caller's first words (or, with dtmf too, first key) stop the
// prompts; the answer ends after the speech timeout's pause. A key goes
// on as a DTMF gather from that key.
func (s *session) gatherSpeech(ctx context.Context, g *Gather) (url.Values, error) {
	sp := g.Speech
	res, err := speech.Listen(ctx, s.call, s.a.cfg.Recognizer, speech.ListenOptions{
		Recognize: speech.RecognizeOptions{EndSilence: sp.EndSilence, Hints: sp.Hints, Language: sp.Language},
		Prompt: func(ctx context.Context) error {
			for _, p := range g.Prompts {
				if err := s.prompt(ctx, p); err != nil {
					return err
				}
			}
			return nil
		},
		NoInputTimeout: g.Timeout,
		MaxSpeechTime:  sp.MaxSpeechTime,
		DTMF:           sp.DTMF,
	})
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.Is(err, agent.ErrHangup):
		return nil, err
	case err != nil:
		// A recognizer that fails (a service down, a program missing)
		// is no input, as Twilio treats a failed recognition.
		s.log.Warn("<Gather> speech recognition failed", "error", err)
		return nil, nil
	case res.Digit != 0:
		return digitParams(s.gatherDigits(ctx, g, res.Digit))
	case res.Text != "":
		s.log.Debug("<Gather> heard", "confidence", res.Confidence)
		return url.Values{
			"SpeechResult": {res.Text},
			"Confidence":   {strconv.FormatFloat(res.Confidence, 'f', -1, 64)},
		}, nil
	}
	return nil, nil
}

// gatherDigits plays g's prompts and collects digits, as <Gather
// input="dtmf"> does: the first key silences the prompts, and the input
// ends at NumDigits, at FinishOnKey, or Timeout after the last key (or
// after the prompts, if no key came during them). It returns "" if
// nothing was entered. With first set, the prompts are over and first
// is the first key.
func (s *session) gatherDigits(ctx context.Context, g *Gather, first rune) (string, error) {
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	prompts := make(chan error, 1)
	playing := first == 0
	if playing {
		go func() {
			for _, p := range g.Prompts {
				if err := s.prompt(pctx, p); err != nil {
					prompts <- err
					return
				}
			}
			prompts <- nil
		}()
	}
	defer func() {
		if playing {
			stop()
			s.promptStopped(<-prompts)
		}
	}()

	var digits []rune
	var timeout <-chan time.Time
	var timer *time.Timer
	restart := func() {
		if timer == nil {
			timer = time.NewTimer(g.Timeout)
		} else {
			timer.Reset(g.Timeout)
		}
		timeout = timer.C
	}
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	// key takes one key; done says the input is complete.
	key := func(d rune) bool {
		if g.FinishOnKey != 0 && d == g.FinishOnKey {
			return true
		}
		digits = append(digits, d)
		if g.NumDigits > 0 && len(digits) >= g.NumDigits {
			return true
		}
		restart()
		return false
	}
	if first != 0 && key(first) {
		return string(digits), nil
	}
	for {
		select {
		case err := <-prompts:
			playing = false
			if err != nil {
				return "", err
			}
			if timeout == nil {
				restart()
			}
		case d, ok := <-s.call.DTMF():
			if !ok {
				return "", agent.ErrHangup
			}
			if playing {
				stop()
				s.promptStopped(<-prompts)
				playing = false
				s.call.ClearAudio()
			}
			if key(d) {
				return string(digits), nil
			}
		case <-timeout:
			return string(digits), nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// promptStopped notes how a prompt cut short by a key ended: cancelled,
// normally; anything else is worth a debug line.
func (s *session) promptStopped(err error) {
	if err != nil && !errors.Is(err, context.Canceled) {
		s.log.Debug("prompt ended", "error", err)
	}
}
