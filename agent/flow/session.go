package flow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/speech"
)

// session is one call running through a flow.
type session struct {
	call           agent.Call
	dtmf           <-chan rune
	synth          speech.Synthesizer
	clock          Clock
	log            *slog.Logger
	transferTarget string
	transferMode   string // for transfer steps that name none
}

// audio returns the PCM of p, synthesizing text prompts.
func (s *session) audio(ctx context.Context, p prompt) ([]int16, error) {
	if p.text == "" {
		return p.pcm, nil
	}
	if s.synth == nil {
		return nil, ErrNoSynthesizer
	}
	pcm, err := s.synth.Synthesize(ctx, p.text)
	if err != nil {
		return nil, fmt.Errorf("say: %w", err)
	}
	return pcm, nil
}

// play queues pcm in frame-sized pieces and waits until it has played.
// Small pieces keep each WriteAudio short, so a cancelled play stops
// queueing within a frame.
func (s *session) play(ctx context.Context, pcm []int16) error {
	return agent.Play(ctx, s.call, pcm)
}

// playInterruptible plays pcm until it ends or the caller presses a key
// (barge-in). A key stops the audio at once and is returned with
// pressed true.
func (s *session) playInterruptible(ctx context.Context, pcm []int16) (key rune, pressed bool, err error) {
	playCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	played := make(chan error, 1)
	go func() { played <- s.play(playCtx, pcm) }()
	select {
	case err := <-played:
		return 0, false, err
	case k, ok := <-s.dtmf:
		// Stop queueing before clearing, so no piece lands after
		// the clear.
		cancel()
		// Playback was cancelled just now; any other error (the call
		// ended meanwhile) is the caller's to see.
		if err := <-played; err != nil && !errors.Is(err, context.Canceled) {
			return 0, false, err
		}
		s.call.ClearAudio()
		if !ok {
			return 0, false, agent.ErrHangup
		}
		return k, true, nil
	}
}
