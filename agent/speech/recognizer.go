package speech

import (
	"context"
	"time"
)

// Recognizer turns a caller's speech into text. Implementations are safe
// for concurrent use: each call starts streams of its own.
type Recognizer interface {
	// Start opens a recognition stream for one caller, configured by
	// opts. It is closed by Stream.Close or when ctx ends.
	Start(ctx context.Context, opts RecognizeOptions) (Stream, error)
}

// RecognizeOptions tune one recognition stream.
type RecognizeOptions struct {
	// EndSilence is the silence after speech that ends an utterance
	// (voice-activity endpointing); 0 means DefaultEndSilence.
	EndSilence time.Duration
	// Hints are words or phrases the caller is likely to say (menu
	// choices, names); recognizers that can use them bias towards them.
	Hints []string
	// Language is a BCP 47 tag, e.g. en-US; "" means the recognizer's
	// default.
	Language string
}

// DefaultEndSilence ends an utterance after 800 ms without speech.
const DefaultEndSilence = 800 * time.Millisecond

// Stream is one recognition session: 8 kHz 16-bit PCM in, transcripts
// out.
type Stream interface {
	// Write feeds audio, any number of samples. It does not block on
	// recognition; audio written faster than it can be handled is
	// dropped and counted by the implementation rather than queued
	// without bound.
	Write(pcm []int16) error
	// Results delivers transcripts: partial ones while an utterance goes
	// on (SpeechStarted first, as soon as voice is detected), then one
	// Final per utterance. It is closed when the stream ends.
	Results() <-chan Transcript
	// Close ends the stream and releases its resources. It is
	// idempotent.
	Close() error
}

// Transcript is one recognition result.
type Transcript struct {
	// Text is what was recognised so far ("" for SpeechStarted).
	Text string
	// Final marks the transcript of a whole utterance.
	Final bool
	// SpeechStarted marks the moment voice was detected, before any
	// text: what barge-in acts on.
	SpeechStarted bool
	// Confidence is 0-1 where the recognizer gives one, else 0.
	Confidence float64
}
