package twiml

import (
	"context"
	"errors"
	"time"

	"github.com/sipagent/sipagent/agent"
)

// gather plays g's prompts and collects digits, as <Gather input="dtmf">
// does: the first key silences the prompts, and the input ends at
// NumDigits, at FinishOnKey, or Timeout after the last key (or after the
// prompts, if no key came during them). It returns "" if nothing was
// entered.
func (s *session) gather(ctx context.Context, g *Gather) (string, error) {
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	prompts := make(chan error, 1)
	go func() {
		for _, p := range g.Prompts {
			if err := s.prompt(pctx, p); err != nil {
				prompts <- err
				return
			}
		}
		prompts <- nil
	}()
	playing := true
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
			if g.FinishOnKey != 0 && d == g.FinishOnKey {
				return string(digits), nil
			}
			digits = append(digits, d)
			if g.NumDigits > 0 && len(digits) >= g.NumDigits {
				return string(digits), nil
			}
			restart()
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
