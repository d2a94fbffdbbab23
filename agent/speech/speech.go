package speech

import "context"

// Synthesizer turns text into speech: 16-bit mono PCM at 8 kHz
// (agent.SampleRate). Implementations are safe for concurrent use.
type Synthesizer interface {
	Synthesize(ctx context.Context, text string) ([]int16, error)
}

// MaxTextBytes bounds the text one Synthesize call accepts. Prompts are
// sentences; anything longer is a mistake or an abuse.
const MaxTextBytes = 4096
