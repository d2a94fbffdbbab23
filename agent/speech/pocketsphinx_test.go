package speech

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/agenttest"
)

// newPocketsphinx returns a Pocketsphinx or fails: pocketsphinx and its
// model are test dependencies (.ci/deps installs them), so their absence
// is a failure, not a skip.
func newPocketsphinx(t *testing.T, opts ...PocketsphinxOption) *Pocketsphinx {
	t.Helper()
	p, err := NewPocketsphinx(opts...)
	if err != nil {
		t.Fatalf("NewPocketsphinx: %v (Debian packages pocketsphinx and pocketsphinx-en-us; run .ci/deps)", err)
	}
	return p
}

// recognizeOnce runs one utterance through a stream: pcm between
// silences, then the Final.
func recognizeOnce(ctx context.Context, t *testing.T, rec Recognizer, opts RecognizeOptions, pcm []int16) Transcript {
	t.Helper()
	s, err := rec.Start(ctx, opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer func() { _ = s.Close() }()
	if err := s.Write(concat(silence(500*ms), pcm, silence(1500*ms))); err != nil {
		t.Fatalf("Write: %v", err)
	}
	started := false
	for {
		select {
		case tr, ok := <-s.Results():
			if !ok {
				t.Fatal("Results closed before a Final")
			}
			if tr.SpeechStarted {
				started = true
			}
			if tr.Final {
				if !started {
					t.Error("Final without SpeechStarted before it")
				}
				return tr
			}
		case <-ctx.Done():
			t.Fatalf("no Final: %v", ctx.Err())
		}
	}
}

func TestPocketsphinxHints(t *testing.T) {
	ctx := testContext(t)
	p := newPocketsphinx(t)
	e := newEspeak(t)
	for _, word := range []string{"sales", "support"} {
		pcm, err := e.Synthesize(ctx, word)
		if err != nil {
			t.Fatal(err)
		}
		tr := recognizeOnce(ctx, t, p, RecognizeOptions{Hints: []string{"Sales", " support "}}, pcm)
		if tr.Text != word {
			t.Errorf("espeak-ng said %q; recognised %q", word, tr.Text)
		}
	}
}

// recognitionPhrases are what callers say to a phone menu.
var recognitionPhrases = []string{
	"sales", "support", "billing", "yes", "no", "operator", "cancel my order", "check my balance",
	"talk to an agent", "repeat that", "main menu", "technical support", "one", "two", "three",
	"hello", "goodbye", "I want to pay my bill", "what are your opening hours", "speak to a person",
}

// TestPocketsphinxAccuracy measures recognition of espeak-ng phrases at
// 8 kHz, as a call carries them: with the phrases as hints (a menu), and
// with the general language model. It asserts the menu case, which
// agents rely on, and logs the rest.
func TestPocketsphinxAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipped because it runs pocketsphinx 60 times")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e := newEspeak(t)
	audio := make([][]int16, len(recognitionPhrases))
	for i, ph := range recognitionPhrases {
		var err error
		if audio[i], err = e.Synthesize(ctx, ph); err != nil {
			t.Fatal(err)
		}
	}
	score := func(rec Recognizer, hints []string) (int, []string) {
		n := 0
		var misses []string
		for i, ph := range recognitionPhrases {
			got := recognizeOnce(ctx, t, rec, RecognizeOptions{Hints: hints}, audio[i]).Text
			if got == strings.ToLower(ph) {
				n++
			} else {
				misses = append(misses, ph+" => "+got)
			}
		}
		return n, misses
	}
	p := newPocketsphinx(t)
	menu, misses := score(p, recognitionPhrases)
	t.Logf("with hints: %d/%d (misses: %s)", menu, len(recognitionPhrases), strings.Join(misses, "; "))
	free, misses := score(p, nil)
	t.Logf("without hints: %d/%d (misses: %s)", free, len(recognitionPhrases), strings.Join(misses, "; "))
	quiet, misses := score(newPocketsphinx(t, WithPocketsphinxNoise(0)), recognitionPhrases)
	t.Logf("with hints, no comfort noise: %d/%d (misses: %s)", quiet, len(recognitionPhrases), strings.Join(misses, "; "))
	if menu < len(recognitionPhrases)*85/100 {
		t.Errorf("with hints %d/%d phrases recognised, want at least 85%%", menu, len(recognitionPhrases))
	}
}

// Listen on a call with the real recognizer: the caller says "support"
// over a line with some noise, during a prompt, which stops.
func TestListenPocketsphinx(t *testing.T) {
	ctx := testContext(t)
	p := newPocketsphinx(t)
	e := newEspeak(t)
	said, err := e.Synthesize(ctx, "support")
	if err != nil {
		t.Fatal(err)
	}
	line := concat(silence(300*ms), said)
	mix(line, noise(time.Second, -50, 9))
	call := agenttest.New(agenttest.WithManualPlayout())
	feedCtx, stopFeed := context.WithCancel(ctx)
	fed := make(chan error, 1)
	go func() { fed <- speak(feedCtx, call, line) }()
	spoke := 0
	res, err := Listen(ctx, call, p, ListenOptions{
		Recognize: RecognizeOptions{Hints: []string{"sales", "support"}, EndSilence: 500 * ms},
		Prompt: func(ctx context.Context) error {
			return agent.Play(ctx, call, tone(2*time.Second, 440, -20))
		},
		OnSpeech: func() { spoke++ },
	})
	stopFeed()
	if err := <-fed; err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("feeding audio: %v", err)
	}
	if err != nil || res.Text != "support" {
		t.Fatalf("Listen = %+v, %v; want support", res, err)
	}
	if spoke != 1 {
		t.Errorf("OnSpeech called %d times, want 1", spoke)
	}
	if rec := call.Snapshot(); rec.Clears == 0 {
		t.Error("the prompt was not cleared when the caller spoke")
	}
}

// speak sends pcm to the call as the caller's audio, then silence in
// real time until ctx ends.
func speak(ctx context.Context, call *agenttest.Call, pcm []int16) error {
	for len(pcm) > 0 {
		n := min(len(pcm), agent.FrameSamples)
		if err := call.SendAudio(ctx, pcm[:n]); err != nil {
			return err
		}
		pcm = pcm[n:]
	}
	tick := time.NewTicker(20 * ms)
	defer tick.Stop()
	quiet := make([]int16, agent.FrameSamples)
	for {
		if err := call.SendAudio(ctx, quiet); err != nil {
			return err
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func TestPocketsphinxLanguage(t *testing.T) {
	ctx := testContext(t)
	p := newPocketsphinx(t)
	if _, err := p.Start(ctx, RecognizeOptions{Language: "de-DE"}); !errors.Is(err, ErrLanguageUnsupported) {
		t.Errorf("German stream: %v, want ErrLanguageUnsupported", err)
	}
	for _, lang := range []string{"", "en", "en-GB", "EN-us"} {
		s, err := p.Start(ctx, RecognizeOptions{Language: lang})
		if err != nil {
			t.Errorf("language %q: %v", lang, err)
			continue
		}
		_ = s.Close()
	}
}

func TestNewPocketsphinxMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := NewPocketsphinx()
	if err != ErrPocketsphinxNotFound {
		t.Errorf("NewPocketsphinx without the program = %v, want ErrPocketsphinxNotFound", err)
	}
	if !strings.Contains(err.Error(), "apt-get install pocketsphinx") {
		t.Errorf("error %q does not name the package", err)
	}
	if _, err := NewPocketsphinx(WithPocketsphinxBinary("/no/such/pocketsphinx")); !errors.Is(err, ErrPocketsphinxNotFound) {
		t.Errorf("missing binary: %v", err)
	}
}

func TestNewPocketsphinxModelMissing(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "pocketsphinx_continuous")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := NewPocketsphinx(WithPocketsphinxBinary(bin), WithPocketsphinxModel(PocketsphinxModel{HMM: "/no/hmm", LM: "/no/lm", Dict: "/no/dict"}))
	if !errors.Is(err, ErrPocketsphinxModelNotFound) || !strings.Contains(err.Error(), "pocketsphinx-en-us") {
		t.Errorf("missing model: %v, want ErrPocketsphinxModelNotFound naming pocketsphinx-en-us", err)
	}
	for _, o := range []PocketsphinxOption{WithPocketsphinxTimeout(0), WithPocketsphinxQueue(0), WithPocketsphinxNoise(-1)} {
		if _, err := NewPocketsphinx(WithPocketsphinxBinary(bin), o); err == nil {
			t.Error("NewPocketsphinx accepted a bad option")
		}
	}
}

// A failing program gives an empty Final (the utterance ended) and is
// logged, not fatal to the stream.
func TestPocketsphinxProgramFails(t *testing.T) {
	ctx := testContext(t)
	bin := filepath.Join(t.TempDir(), "pocketsphinx_continuous")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho broken >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := newPocketsphinx(t, WithPocketsphinxBinary(bin))
	tr := recognizeOnce(ctx, t, p, RecognizeOptions{}, tone(500*ms, 300, -15))
	if tr.Text != "" || !tr.Final {
		t.Errorf("failed run gave %+v, want an empty Final", tr)
	}
}

func TestHintWords(t *testing.T) {
	for _, tt := range []struct {
		hint string
		want []string
	}{
		{"Sales", []string{"sales"}},
		{" technical  support, ", []string{"technical", "support"}},
		{"press 1", []string{"press", "one"}},
		{"o'clock", []string{"o'clock"}},
		{"café", nil},
		{"<rule>", []string{"rule"}},
		{"", nil},
		{"10", nil},
		{strings.Repeat("a ", maxHintWords+1), nil},
	} {
		if got := hintWords(tt.hint); !slices.Equal(got, tt.want) {
			t.Errorf("hintWords(%q) = %q, want %q", tt.hint, got, tt.want)
		}
	}
}

func TestBacktraceConfidence(t *testing.T) {
	log := `INFO: pocketsphinx.c(1168): to yield (-5013)
word                 start end   pprob ascr       lscr       lback
<s>                  0     46    1.000 -386048    0          1
to                   47    73    0.134 -974848    -349       2
yield                74    107   0.114 -1568768   -706       2
<sil>                108   120   0.991 -279552    -524288    2
</s>                 121   154   1.000 -279552    -169       1
INFO: ngram_search.c(870): bestpath 0.00 CPU 0.000 xRT
`
	if got := backtraceConfidence(log); math.Abs(got-0.124) > 1e-9 {
		t.Errorf("confidence %v, want 0.124", got)
	}
	if got := backtraceConfidence("no table here\n"); got != 0 {
		t.Errorf("confidence without a table %v", got)
	}
}
