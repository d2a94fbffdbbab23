package flow

import (
	"context"
	"time"
)

// playAction plays a WAV prompt (play) or speaks text (say).
type playAction struct {
	prompt prompt
}

func (a *playAction) run(ctx context.Context, s *session) (outcome, error) {
	pcm, err := s.audio(ctx, a.prompt)
	if err != nil {
		return outcome{}, err
	}
	if err := s.play(ctx, pcm); err != nil {
		return outcome{}, err
	}
	return outcome{waited: len(pcm) > 0}, nil
}

// pauseAction waits in silence.
type pauseAction struct {
	d time.Duration
}

func (a *pauseAction) run(ctx context.Context, s *session) (outcome, error) {
	t := s.clock.NewTimer(a.d)
	defer t.Stop()
	select {
	case <-t.C():
		return outcome{waited: true}, nil
	case <-ctx.Done():
		return outcome{}, ctx.Err()
	}
}

// hangupAction ends the call.
type hangupAction struct{}

func (hangupAction) run(context.Context, *session) (outcome, error) {
	return outcome{hangup: true}, nil
}
