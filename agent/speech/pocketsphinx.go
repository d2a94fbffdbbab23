package speech

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/media/wav"
)

// Pocketsphinx defaults: the program and the US English model of
// Debian's pocketsphinx and pocketsphinx-en-us packages.
const (
	pocketsphinxBinary = "pocketsphinx_continuous"
	debianModelDir     = "/usr/share/pocketsphinx/model/en-us"
	// DefaultPocketsphinxTimeout bounds one run of the program.
	DefaultPocketsphinxTimeout = 20 * time.Second
	// DefaultPocketsphinxNoise is the comfort noise mixed into each
	// utterance recognised with hints, RMS in sample units (about -50
	// dBFS); see WithPocketsphinxNoise.
	DefaultPocketsphinxNoise = 100
	// defaultLMNoise is the comfort noise without hints: the language
	// model reads more than that as fricatives ("if", "half").
	defaultLMNoise = 50
	// modelRate is the rate of the en-us acoustic model.
	modelRate = 16000
	// maxPocketsphinxOutput bounds what the program prints: a few
	// lines of text per utterance.
	maxPocketsphinxOutput = 64 << 10
	// maxPocketsphinxLog bounds the log read back for word confidences.
	maxPocketsphinxLog = 1 << 20
	// utterancePad is silence put around an utterance: the program's
	// own voice detector wants some before and after the speech.
	utterancePad = 250 * time.Millisecond
)

// PocketsphinxModel names the files of a pocketsphinx model.
type PocketsphinxModel struct {
	// Language is the model's BCP 47 language tag, e.g. en-US. Streams
	// asking for another language (by primary subtag) are refused.
	Language string
	// HMM is the acoustic model's directory (trained on 16 kHz audio).
	HMM string
	// LM is the language model used when a stream has no hints.
	LM string
	// Dict is the pronunciation dictionary.
	Dict string
}

// Pocketsphinx is an offline Recognizer that runs CMU Sphinx's
// pocketsphinx_continuous program (Debian package pocketsphinx, model
// pocketsphinx-en-us) once per utterance, with no cgo: a VAD (see VAD)
// cuts the caller's audio into utterances, each is written as a 16 kHz
// WAV file and recognised by a run of the program.
//
// Without hints it uses the model's general language model, which knows
// some 130,000 words and is weak on telephone audio and synthetic voices.
// With hints (RecognizeOptions.Hints) it recognises only those words and
// phrases, through a JSGF grammar: what makes a menu ("sales", "support")
// reliable. Hint words missing from the dictionary are left out.
//
// It is safe for concurrent use; at most GOMAXPROCS programs run at once.
type Pocketsphinx struct {
	path    string
	model   PocketsphinxModel
	timeout time.Duration
	queue   int
	noise   float64 // with hints
	lmNoise float64 // without
	log     *slog.Logger
	slots   chan struct{} // one per program allowed to run at once
}

var _ Recognizer = (*Pocketsphinx)(nil)

// PocketsphinxOption configures a Pocketsphinx.
type PocketsphinxOption func(*Pocketsphinx)

// WithPocketsphinxBinary names the program to run instead of
// pocketsphinx_continuous: a name looked up in PATH or a path.
func WithPocketsphinxBinary(name string) PocketsphinxOption {
	return func(p *Pocketsphinx) { p.path = name }
}

// WithPocketsphinxModel uses another model than Debian's
// pocketsphinx-en-us.
func WithPocketsphinxModel(m PocketsphinxModel) PocketsphinxOption {
	return func(p *Pocketsphinx) { p.model = m }
}

// WithPocketsphinxTimeout bounds each run of the program (default
// DefaultPocketsphinxTimeout).
func WithPocketsphinxTimeout(d time.Duration) PocketsphinxOption {
	return func(p *Pocketsphinx) { p.timeout = d }
}

// WithPocketsphinxQueue sets how many finished utterances may wait while
// the program works on an earlier one (default DefaultUtteranceQueue);
// further ones are dropped and counted (UtteranceStream.Dropped).
func WithPocketsphinxQueue(n int) PocketsphinxOption {
	return func(p *Pocketsphinx) { p.queue = n }
}

// WithPocketsphinxNoise sets the comfort noise added to each utterance
// (RMS, in sample units; 0 for none), with or without hints. The en-us
// model is trained on 16 kHz audio: telephone audio upsampled to it has
// nothing above 4 kHz and, between words, often digital silence, and the
// log energies of those empty bands throw the model's features. Low white
// noise fills them. With menu hints it took recognition of espeak-ng
// phrases from 4 in 20 to 20 in 20 (DefaultPocketsphinxNoise; see
// TestPocketsphinxAccuracy); without hints half that level does best
// (5 in 20 against 1 in 20 without noise and 0 in 20 at the full level).
func WithPocketsphinxNoise(rms float64) PocketsphinxOption {
	return func(p *Pocketsphinx) { p.noise, p.lmNoise = rms, rms }
}

// WithPocketsphinxLogger sets where failed runs are logged (default
// nowhere).
func WithPocketsphinxLogger(l *slog.Logger) PocketsphinxOption {
	return func(p *Pocketsphinx) { p.log = l }
}

// NewPocketsphinx checks that the program and the model are installed
// and returns a recognizer that runs them.
func NewPocketsphinx(opts ...PocketsphinxOption) (*Pocketsphinx, error) {
	p := &Pocketsphinx{
		path: pocketsphinxBinary,
		model: PocketsphinxModel{
			Language: "en-US",
			HMM:      filepath.Join(debianModelDir, "en-us"),
			LM:       filepath.Join(debianModelDir, "en-us.lm.bin"),
			Dict:     filepath.Join(debianModelDir, "cmudict-en-us.dict"),
		},
		timeout: DefaultPocketsphinxTimeout,
		queue:   DefaultUtteranceQueue,
		noise:   DefaultPocketsphinxNoise,
		lmNoise: defaultLMNoise,
		log:     slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(p)
	}
	if p.timeout <= 0 {
		return nil, fmt.Errorf("speech: pocketsphinx timeout %v: want a positive duration", p.timeout)
	}
	if p.queue < 1 {
		return nil, fmt.Errorf("speech: pocketsphinx queue %d: want at least 1", p.queue)
	}
	if p.noise < 0 || p.noise > 3000 {
		return nil, fmt.Errorf("speech: pocketsphinx noise %v: want 0 to 3000", p.noise)
	}
	path, err := findBinary(p.path, pocketsphinxBinary, ErrPocketsphinxNotFound)
	if err != nil {
		return nil, err
	}
	p.path = path
	for _, f := range []struct {
		path string
		dir  bool
	}{{p.model.HMM, true}, {p.model.LM, false}, {p.model.Dict, false}} {
		fi, err := os.Stat(f.path)
		if err != nil || fi.IsDir() != f.dir {
			return nil, fmt.Errorf("%w: %s", ErrPocketsphinxModelNotFound, f.path)
		}
	}
	p.slots = make(chan struct{}, runtime.GOMAXPROCS(0))
	return p, nil
}

// Start opens a stream. opts.Language must be the model's language (by
// primary subtag) or "".
func (p *Pocketsphinx) Start(ctx context.Context, opts RecognizeOptions) (Stream, error) {
	if !sameLanguage(opts.Language, p.model.Language) {
		return nil, fmt.Errorf("%w: %q (the pocketsphinx model is %s)", ErrLanguageUnsupported, opts.Language, p.model.Language)
	}
	dir, err := os.MkdirTemp("", "sipagent-pocketsphinx-")
	if err != nil {
		return nil, fmt.Errorf("speech: pocketsphinx: %w", err)
	}
	run := &psRun{p: p, dir: dir}
	if len(opts.Hints) > 0 {
		if err := run.writeGrammar(opts.Hints); err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
	}
	s := newUtteranceStream(ctx, VADConfig{EndSilence: opts.EndSilence}, p.queue, run.recognize, func(err error) {
		p.log.Warn("pocketsphinx failed on an utterance", "error", err)
	})
	// The directory goes when the worker is done with it.
	go func() {
		<-s.done
		_ = os.RemoveAll(dir)
	}()
	return s, nil
}

// sameLanguage compares BCP 47 tags by primary subtag; "" matches any.
func sameLanguage(a, b string) bool {
	primary := func(s string) string { p, _, _ := strings.Cut(s, "-"); return strings.ToLower(p) }
	return a == "" || b == "" || primary(a) == primary(b)
}

// psRun is one stream's use of the program: its directory, with the
// utterance, the log and the grammar files.
type psRun struct {
	p       *Pocketsphinx
	dir     string
	grammar string // JSGF file, "" for the language model
	dict    string // dictionary for the grammar's words
}

// recognize runs the program on one utterance.
func (r *psRun) recognize(ctx context.Context, pcm []int16) (string, float64, error) {
	select {
	case r.p.slots <- struct{}{}:
		defer func() { <-r.p.slots }()
	case <-ctx.Done():
		return "", 0, ctx.Err()
	}
	pad := make([]int16, samples(utterancePad))
	pcm = wav.Resample(concatPCM(pad, pcm, pad), agent.SampleRate, modelRate)
	if r.grammar != "" {
		addNoise(pcm, r.p.noise)
	} else {
		addNoise(pcm, r.p.lmNoise)
	}
	var buf bytes.Buffer
	if err := wav.Encode(&buf, pcm, modelRate); err != nil {
		return "", 0, err
	}
	in, logf := filepath.Join(r.dir, "utterance.wav"), filepath.Join(r.dir, "pocketsphinx.log")
	if err := os.WriteFile(in, buf.Bytes(), 0o600); err != nil {
		return "", 0, fmt.Errorf("speech: pocketsphinx: %w", err)
	}
	args := []string{"-infile", in, "-hmm", r.p.model.HMM, "-logfn", logf, "-backtrace", "yes"}
	if r.grammar != "" {
		args = append(args, "-jsgf", r.grammar, "-dict", r.dict)
	} else {
		args = append(args, "-lm", r.p.model.LM, "-dict", r.p.model.Dict)
	}
	ctx, cancel := context.WithTimeout(ctx, r.p.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.p.path, args...)
	out := &cappedBuffer{max: maxPocketsphinxOutput}
	stderr := &cappedBuffer{max: 4096}
	cmd.Stdout, cmd.Stderr = out, stderr
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", 0, fmt.Errorf("speech: pocketsphinx: %w", ctx.Err())
		}
		return "", 0, fmt.Errorf("speech: pocketsphinx: %w: %s%s", err, strings.TrimSpace(stderr.String()), logTail(logf))
	}
	text := strings.Join(strings.Fields(out.String()), " ")
	var conf float64
	if r.grammar == "" && text != "" {
		// Under a grammar the program's word posteriors are all 1: no
		// confidence to give.
		conf = logConfidence(logf)
	}
	return text, conf, nil
}

// concatPCM joins slices into a new one.
func concatPCM(parts ...[]int16) []int16 {
	var n int
	for _, p := range parts {
		n += len(p)
	}
	out := make([]int16, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// addNoise mixes white noise of the given RMS into pcm, from a fixed
// seed so that the same audio is recognised the same way every time.
func addNoise(pcm []int16, rms float64) {
	if rms <= 0 {
		return
	}
	rnd := rand.New(rand.NewPCG(0x5ee1, 0xd00d))
	for i, s := range pcm {
		v := float64(s) + rnd.NormFloat64()*rms
		pcm[i] = int16(max(-32768, min(32767, math.Round(v))))
	}
}

// logTail is the last error line of the program's log, for an error
// message.
func logTail(path string) string {
	b, err := readCapped(path, maxPocketsphinxLog)
	if err != nil {
		return ""
	}
	lines := strings.Split(string(b), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "ERROR:") || strings.HasPrefix(lines[i], "FATAL") {
			return " (" + strings.TrimSpace(lines[i]) + ")"
		}
	}
	return ""
}

// logConfidence reads the word posteriors of -backtrace from the log and
// returns their mean over real words, or 0.
func logConfidence(path string) float64 {
	b, err := readCapped(path, maxPocketsphinxLog)
	if err != nil {
		return 0
	}
	return backtraceConfidence(string(b))
}

// backtraceConfidence parses the tables pocketsphinx logs with
// -backtrace yes:
//
//	word                 start end   pprob ascr       lscr       lback
//	<s>                  0     46    1.000 -386048    0          1
//	to                   47    73    0.134 -974848    -349       2
func backtraceConfidence(log string) float64 {
	var sum float64
	var n int
	table := false
	for line := range strings.Lines(log) {
		f := strings.Fields(line)
		if len(f) == 7 && f[0] == "word" && f[3] == "pprob" {
			table = true
			continue
		}
		if !table {
			continue
		}
		if len(f) != 7 || !isInt(f[1]) || !isInt(f[2]) {
			table = false
			continue
		}
		p, err := strconv.ParseFloat(f[3], 64)
		if err != nil || p < 0 || p > 1 {
			table = false
			continue
		}
		if w := f[0]; strings.HasPrefix(w, "<") || strings.HasPrefix(w, "[") || strings.HasPrefix(w, "+") {
			continue // <s>, </s>, <sil>, [NOISE], ++filler++
		}
		sum += p
		n++
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

func isInt(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

// readCapped reads a file of at most max bytes.
func readCapped(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > max {
		return nil, fmt.Errorf("%s: %w", path, errOutputTooLarge)
	}
	var buf bytes.Buffer
	_, err = buf.ReadFrom(bufio.NewReader(f))
	return buf.Bytes(), err
}

// errNoHints means none of a stream's hints could be put in a grammar.
var errNoHints = errors.New("no hint is made of dictionary words")
