package speech

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/media/wav"
)

// Espeak defaults.
const (
	DefaultEspeakVoice = "en-us"
	DefaultEspeakSpeed = 150 // words per minute
	espeakBinary       = "espeak-ng"
	// maxEspeakOutput bounds the WAV read back from espeak-ng: about six
	// minutes at its 22050 Hz, far beyond MaxTextBytes of text.
	maxEspeakOutput = 16 << 20
)

// Espeak is a Synthesizer that runs the espeak-ng program once per call.
type Espeak struct {
	path  string
	voice string
	speed int
}

var _ Synthesizer = (*Espeak)(nil)

// EspeakOption configures an Espeak.
type EspeakOption func(*Espeak)

// WithVoice selects an espeak-ng voice, as for espeak-ng -v (for example
// "en-us", "en-gb", "de", "en-us+f3").
func WithVoice(voice string) EspeakOption { return func(e *Espeak) { e.voice = voice } }

// WithSpeed sets the speaking rate in words per minute (80 to 450).
func WithSpeed(wpm int) EspeakOption { return func(e *Espeak) { e.speed = wpm } }

// WithBinary names the program to run instead of espeak-ng: a name looked
// up in PATH or a path.
func WithBinary(name string) EspeakOption { return func(e *Espeak) { e.path = name } }

// NewEspeak checks that espeak-ng is installed and the options are sane
// and returns a synthesizer that runs it.
func NewEspeak(opts ...EspeakOption) (*Espeak, error) {
	e := &Espeak{path: espeakBinary, voice: DefaultEspeakVoice, speed: DefaultEspeakSpeed}
	for _, o := range opts {
		o(e)
	}
	// The voice becomes an argument: refuse anything that could be read
	// as an option or split into several.
	if e.voice == "" || strings.HasPrefix(e.voice, "-") || strings.ContainsFunc(e.voice, isSpaceOrControl) {
		return nil, fmt.Errorf("speech: espeak-ng voice %q is not a voice name", e.voice)
	}
	if e.speed < 80 || e.speed > 450 {
		return nil, fmt.Errorf("speech: espeak-ng speed %d words per minute (want 80 to 450)", e.speed)
	}
	path, err := findBinary(e.path, espeakBinary, ErrEspeakNotFound)
	if err != nil {
		return nil, err
	}
	e.path = path
	return e, nil
}

// findBinary looks up the program name on PATH. A missing default
// program is notFound alone (it names the Debian package to install);
// one the caller named is notFound with the lookup's error.
func findBinary(name, dflt string, notFound error) (string, error) {
	path, err := exec.LookPath(name)
	switch {
	case err != nil && name == dflt:
		return "", notFound
	case err != nil:
		return "", fmt.Errorf("%w: %w", notFound, err)
	}
	return path, nil
}

// Synthesize runs espeak-ng on text and returns its speech at 8 kHz.
func (e *Espeak) Synthesize(ctx context.Context, text string) ([]int16, error) {
	if strings.TrimSpace(text) == "" {
		return nil, ErrEmptyText
	}
	if len(text) > MaxTextBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTextTooLong, len(text), MaxTextBytes)
	}
	// The text goes through stdin, never the command line, so it cannot
	// be taken for an option whatever it starts with.
	cmd := exec.CommandContext(ctx, e.path, "--stdout", "-v", e.voice, "-s", strconv.Itoa(e.speed))
	cmd.Stdin = strings.NewReader(text)
	out := &cappedBuffer{max: maxEspeakOutput}
	stderr := &cappedBuffer{max: 4096}
	cmd.Stdout, cmd.Stderr = out, stderr
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("speech: espeak-ng: %w", ctx.Err())
		}
		return nil, fmt.Errorf("speech: espeak-ng: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	pcm, rate, err := wav.Decode(bytes.NewReader(out.Bytes()))
	if err != nil {
		return nil, fmt.Errorf("speech: espeak-ng output: %w", err)
	}
	if rate != agent.SampleRate {
		pcm = wav.Resample(pcm, rate, agent.SampleRate)
	}
	return pcm, nil
}

func isSpaceOrControl(r rune) bool { return r <= ' ' || r == 0x7F }

// errOutputTooLarge stops a program whose output exceeds a cappedBuffer.
var errOutputTooLarge = errors.New("output too large")

// cappedBuffer is a bytes.Buffer that refuses to grow past max bytes.
type cappedBuffer struct {
	bytes.Buffer
	max int
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.max {
		return 0, fmt.Errorf("%w: more than %d bytes", errOutputTooLarge, b.max)
	}
	return b.Buffer.Write(p)
}
