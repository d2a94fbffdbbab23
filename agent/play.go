package agent

import (
	"context"
	"fmt"

	"github.com/sipagent/sipagent/media/wav"
)

// Play queues pcm (8 kHz) for the caller and waits until it has been
// played. Cancelling ctx stops the wait; call ClearAudio to silence what
// is already queued.
func Play(ctx context.Context, call Call, pcm []int16) error {
	for len(pcm) > 0 {
		// A frame at a time, so a cancelled ctx stops queueing promptly.
		n := min(len(pcm), FrameSamples)
		if err := call.WriteAudio(ctx, pcm[:n]); err != nil {
			return err
		}
		pcm = pcm[n:]
	}
	return call.WaitPlayed(ctx)
}

// PlayFile plays a WAV file (16-bit PCM, mu-law or A-law, any rate; see
// media/wav) and waits until it has been played.
func PlayFile(ctx context.Context, call Call, path string) error {
	pcm, err := wav.Load(path)
	if err != nil {
		return fmt.Errorf("agent: play %s: %w", path, err)
	}
	return Play(ctx, call, pcm)
}
