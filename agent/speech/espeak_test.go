package speech

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/sipagent/sipagent/agent"
)

// newEspeak returns an Espeak or fails: espeak-ng is a test dependency
// (CI installs it), so its absence is a failure, not a skip.
func newEspeak(t *testing.T, opts ...EspeakOption) *Espeak {
	t.Helper()
	e, err := NewEspeak(opts...)
	if err != nil {
		t.Fatalf("NewEspeak: %v", err)
	}
	return e
}

func TestEspeakSynthesize(t *testing.T) {
	ctx := testContext(t)
	e := newEspeak(t)
	pcm, err := e.Synthesize(ctx, "Welcome to sip agent. Press one for an echo test.")
	if err != nil {
		t.Fatalf("Synthesize: %v", err)
	}
	// About ten syllables a second at 150 words a minute: two to six
	// seconds of audio.
	secs := float64(len(pcm)) / agent.SampleRate
	if secs < 2 || secs > 6 {
		t.Errorf("speech lasts %.2f s, want 2 to 6 s", secs)
	}
	var sum float64
	for _, s := range pcm {
		sum += float64(s) * float64(s)
	}
	if rms := math.Sqrt(sum / float64(len(pcm))); rms < 500 {
		t.Errorf("speech RMS %.0f, want at least 500 (not silence)", rms)
	}
}

func TestEspeakTextIsNotAnOption(t *testing.T) {
	ctx := testContext(t)
	pcm, err := newEspeak(t).Synthesize(ctx, "--help")
	if err != nil || len(pcm) == 0 {
		t.Fatalf("Synthesize(--help) = %d samples, %v; want speech", len(pcm), err)
	}
}

func TestEspeakVoiceAndSpeed(t *testing.T) {
	ctx := testContext(t)
	const text = "The quick brown fox jumps over the lazy dog."
	slow, err := newEspeak(t, WithSpeed(100)).Synthesize(ctx, text)
	if err != nil {
		t.Fatal(err)
	}
	fast, err := newEspeak(t, WithSpeed(300), WithVoice("en-gb")).Synthesize(ctx, text)
	if err != nil {
		t.Fatal(err)
	}
	if len(fast) >= len(slow) {
		t.Errorf("300 wpm gave %d samples, 100 wpm %d: speed ignored", len(fast), len(slow))
	}
}

func TestEspeakErrors(t *testing.T) {
	ctx := testContext(t)
	e := newEspeak(t)
	if _, err := e.Synthesize(ctx, " \n"); !errors.Is(err, ErrEmptyText) {
		t.Errorf("blank text: %v, want ErrEmptyText", err)
	}
	if _, err := e.Synthesize(ctx, strings.Repeat("a", MaxTextBytes+1)); !errors.Is(err, ErrTextTooLong) {
		t.Errorf("long text: %v, want ErrTextTooLong", err)
	}
	if _, err := newEspeak(t, WithVoice("nosuchvoice")).Synthesize(ctx, "hello"); err == nil ||
		!strings.Contains(err.Error(), "voice does not exist") {
		t.Errorf("unknown voice: %v, want espeak-ng's complaint", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := e.Synthesize(cancelled, "hello"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
}

func TestNewEspeakOptions(t *testing.T) {
	for _, opts := range [][]EspeakOption{
		{WithVoice("")},
		{WithVoice("-w")},
		{WithVoice("en us")},
		{WithSpeed(10)},
		{WithSpeed(1000)},
	} {
		if _, err := NewEspeak(opts...); err == nil {
			t.Errorf("NewEspeak accepted %+v", opts)
		}
	}
}

func TestNewEspeakMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := NewEspeak()
	if err != ErrEspeakNotFound {
		t.Errorf("NewEspeak without espeak-ng = %v, want ErrEspeakNotFound", err)
	}
	if want := "speech: espeak-ng not found in PATH (apt-get install espeak-ng)"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if _, err := NewEspeak(WithBinary("/no/such/espeak")); !errors.Is(err, ErrEspeakNotFound) {
		t.Errorf("NewEspeak with a missing binary = %v, want ErrEspeakNotFound", err)
	}
}
