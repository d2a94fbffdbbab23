package flow

import (
	"context"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sipagent/sipagent/agent"
)

// gatherAction plays an optional prompt and collects DTMF digits.
type gatherAction struct {
	prompt    *prompt
	maxDigits int  // 0: no limit
	finishKey rune // 0: none
	timeout   time.Duration
	attempts  int
}

// gather parses a gather mapping.
func (p *parser) gather(at where, n *yaml.Node) (*gatherAction, error) {
	entries, err := fields(at, n, []string{"play", "say", "max_digits", "timeout", "finish_on_key", "attempts"})
	if err != nil {
		return nil, err
	}
	g := &gatherAction{timeout: defaultTimeout, attempts: 1}
	for _, e := range entries {
		kat := at.in(e.key)
		switch e.key {
		case "play", "say":
			if g.prompt != nil {
				return nil, at.errorf(e.keyAt, "play and say: choose one prompt")
			}
			var pr prompt
			if e.key == "play" {
				pr, err = p.filePrompt(kat, e.value)
			} else {
				pr, err = sayPrompt(kat, e.value)
			}
			g.prompt = &pr
		case "max_digits":
			g.maxDigits, err = integer(kat, e.value, 1, maxDigits)
		case "timeout":
			g.timeout, err = duration(kat, e.value, minDuration, maxDuration)
		case "finish_on_key":
			g.finishKey, err = key(kat, e.value)
		case "attempts":
			g.attempts, err = integer(kat, e.value, 1, maxAttempts)
		}
		if err != nil {
			return nil, err
		}
	}
	return g, nil
}

// run plays the prompt and gathers up to attempts times, until the caller
// enters something.
func (g *gatherAction) run(ctx context.Context, s *session) (outcome, error) {
	for attempt := 1; ; attempt++ {
		digits, err := g.once(ctx, s)
		if err != nil {
			return outcome{}, err
		}
		if digits != "" || attempt >= g.attempts {
			return outcome{gathered: true, digits: digits, waited: true}, nil
		}
	}
}

// once plays the prompt, which a key press interrupts, then collects keys
// until max_digits, the finish key, or timeout without a key.
func (g *gatherAction) once(ctx context.Context, s *session) (string, error) {
	var digits strings.Builder
	if g.prompt != nil {
		pcm, err := s.audio(ctx, *g.prompt)
		if err != nil {
			return "", err
		}
		k, pressed, err := s.playInterruptible(ctx, pcm)
		if err != nil {
			return "", err
		}
		if pressed && g.add(&digits, k) {
			return digits.String(), nil
		}
	}
	for {
		t := s.clock.NewTimer(g.timeout)
		select {
		case k, ok := <-s.dtmf:
			t.Stop()
			if !ok {
				return "", agent.ErrHangup
			}
			if g.add(&digits, k) {
				return digits.String(), nil
			}
		case <-t.C():
			return digits.String(), nil
		case <-ctx.Done():
			t.Stop()
			return "", ctx.Err()
		}
	}
}

// add takes key k and reports whether gathering is complete.
func (g *gatherAction) add(digits *strings.Builder, k rune) bool {
	if g.finishKey != 0 && k == g.finishKey {
		return true
	}
	digits.WriteRune(k)
	return g.maxDigits > 0 && digits.Len() >= g.maxDigits
}
