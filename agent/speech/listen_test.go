package speech

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/agenttest"
)

// scriptedStream is a Stream whose transcripts the test sends.
type scriptedStream struct {
	results chan Transcript
	wrote   chan int // samples of each Write, if anyone listens
	mu      sync.Mutex
	closed  bool
	err     error
}

func (s *scriptedStream) Write(pcm []int16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrStreamClosed
	}
	select {
	case s.wrote <- len(pcm):
	default:
	}
	return nil
}

func (s *scriptedStream) Results() <-chan Transcript { return s.results }

func (s *scriptedStream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

func (s *scriptedStream) Err() error { return s.err }

func (s *scriptedStream) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// scriptedRecognizer hands out its one stream.
type scriptedRecognizer struct {
	stream *scriptedStream
	opts   chan RecognizeOptions
	err    error
}

func newScripted() *scriptedRecognizer {
	return &scriptedRecognizer{
		stream: &scriptedStream{results: make(chan Transcript, 8), wrote: make(chan int, 1)},
		opts:   make(chan RecognizeOptions, 1),
	}
}

func (r *scriptedRecognizer) Start(_ context.Context, opts RecognizeOptions) (Stream, error) {
	if r.err != nil {
		return nil, r.err
	}
	r.opts <- opts
	return r.stream, nil
}

// listenAsync runs Listen in a goroutine.
func listenAsync(ctx context.Context, call agent.Call, rec Recognizer, opts ListenOptions) <-chan listenResult {
	done := make(chan listenResult, 1)
	go func() {
		res, err := Listen(ctx, call, rec, opts)
		done <- listenResult{res, err}
	}()
	return done
}

type listenResult struct {
	res Result
	err error
}

func wait(t *testing.T, ctx context.Context, done <-chan listenResult) listenResult {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-ctx.Done():
		t.Fatal("Listen did not return")
		return listenResult{}
	}
}

// The caller speaks during the prompt: the prompt stops, its audio is
// cleared, OnSpeech runs once, and the final transcript is the result.
func TestListenBargeIn(t *testing.T) {
	ctx := testContext(t)
	rec := newScripted()
	call := agenttest.New(agenttest.WithManualPlayout())
	promptStopped := make(chan struct{})
	var spoke int
	done := listenAsync(ctx, call, rec, ListenOptions{
		Recognize: RecognizeOptions{Hints: []string{"sales"}, EndSilence: time.Second},
		Prompt: func(ctx context.Context) error {
			err := agent.Play(ctx, call, make([]int16, 8000))
			close(promptStopped)
			return err
		},
		OnSpeech: func() { spoke++ },
	})
	if got := <-rec.opts; got.EndSilence != time.Second || len(got.Hints) != 1 {
		t.Errorf("stream options %+v", got)
	}
	// Audio reaches the stream.
	if err := call.SendAudio(ctx, make([]int16, agent.FrameSamples)); err != nil {
		t.Fatal(err)
	}
	if n := <-rec.stream.wrote; n != agent.FrameSamples {
		t.Errorf("stream got %d samples, want a frame", n)
	}
	rec.stream.results <- Transcript{SpeechStarted: true}
	<-promptStopped
	rec.stream.results <- Transcript{Text: "sa"}
	rec.stream.results <- Transcript{Text: "sales", Final: true, Confidence: 0.8}
	r := wait(t, ctx, done)
	if r.err != nil || r.res != (Result{Text: "sales", Confidence: 0.8}) {
		t.Fatalf("Listen = %+v, %v", r.res, r.err)
	}
	if spoke != 1 {
		t.Errorf("OnSpeech ran %d times, want 1", spoke)
	}
	if rec := call.Snapshot(); rec.Clears != 1 {
		t.Errorf("ClearAudio called %d times, want 1", rec.Clears)
	}
	if !rec.stream.isClosed() {
		t.Error("stream not closed")
	}
}

func TestListenNoInput(t *testing.T) {
	ctx := testContext(t)
	rec := newScripted()
	call := agenttest.New()
	start := time.Now()
	r := wait(t, ctx, listenAsync(ctx, call, rec, ListenOptions{NoInputTimeout: 200 * ms}))
	if r.err != nil || !r.res.NoInput() {
		t.Fatalf("Listen = %+v, %v; want no input", r.res, r.err)
	}
	if d := time.Since(start); d < 200*ms {
		t.Errorf("gave up after %v, before the timeout", d)
	}
}

// The no-input timer starts when the prompt ends.
func TestListenNoInputAfterPrompt(t *testing.T) {
	ctx := testContext(t)
	rec := newScripted()
	call := agenttest.New()
	release := make(chan struct{})
	done := listenAsync(ctx, call, rec, ListenOptions{
		NoInputTimeout: 50 * ms,
		Prompt: func(ctx context.Context) error {
			select {
			case <-release:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	})
	<-rec.opts
	// Well past the timeout, Listen still waits for the prompt.
	select {
	case r := <-done:
		t.Fatalf("Listen returned %+v, %v during the prompt", r.res, r.err)
	case <-time.After(300 * ms):
	}
	close(release)
	if r := wait(t, ctx, done); r.err != nil || !r.res.NoInput() {
		t.Fatalf("Listen = %+v, %v", r.res, r.err)
	}
}

// An empty final (noise) does not end Listen: it listens on.
func TestListenEmptyFinal(t *testing.T) {
	ctx := testContext(t)
	rec := newScripted()
	call := agenttest.New()
	done := listenAsync(ctx, call, rec, ListenOptions{NoInputTimeout: 5 * time.Second})
	rec.stream.results <- Transcript{SpeechStarted: true}
	rec.stream.results <- Transcript{Final: true, Text: "  "}
	rec.stream.results <- Transcript{SpeechStarted: true}
	rec.stream.results <- Transcript{Final: true, Text: " support "}
	if r := wait(t, ctx, done); r.err != nil || r.res.Text != "support" {
		t.Fatalf("Listen = %+v, %v", r.res, r.err)
	}
}

// Speech that never gets a transcript gives up at MaxSpeechTime.
func TestListenMaxSpeechTime(t *testing.T) {
	ctx := testContext(t)
	rec := newScripted()
	done := listenAsync(ctx, agenttest.New(), rec, ListenOptions{MaxSpeechTime: 100 * ms})
	rec.stream.results <- Transcript{SpeechStarted: true}
	if r := wait(t, ctx, done); r.err != nil || !r.res.NoInput() {
		t.Fatalf("Listen = %+v, %v", r.res, r.err)
	}
}

func TestListenDTMF(t *testing.T) {
	ctx := testContext(t)
	rec := newScripted()
	call := agenttest.New()
	prompting := make(chan struct{})
	done := listenAsync(ctx, call, rec, ListenOptions{
		DTMF: true,
		Prompt: func(ctx context.Context) error {
			close(prompting)
			<-ctx.Done()
			return ctx.Err()
		},
	})
	<-prompting
	if err := call.Press(ctx, "7"); err != nil {
		t.Fatal(err)
	}
	r := wait(t, ctx, done)
	if r.err != nil || r.res.Digit != '7' || r.res.NoInput() {
		t.Fatalf("Listen = %+v, %v; want digit 7", r.res, r.err)
	}
	if call.Snapshot().Clears != 1 {
		t.Error("the prompt's audio was not cleared on the key")
	}
}

// Without DTMF, keys are left for whoever reads them next.
func TestListenIgnoresKeysWithoutDTMF(t *testing.T) {
	ctx := testContext(t)
	rec := newScripted()
	call := agenttest.New()
	if err := call.Press(ctx, "5"); err != nil {
		t.Fatal(err)
	}
	r := wait(t, ctx, listenAsync(ctx, call, rec, ListenOptions{NoInputTimeout: 50 * ms}))
	if r.err != nil || !r.res.NoInput() {
		t.Fatalf("Listen = %+v, %v", r.res, r.err)
	}
	if d := <-call.DTMF(); d != '5' {
		t.Errorf("key %q left, want 5", d)
	}
}

func TestListenHangup(t *testing.T) {
	ctx := testContext(t)
	rec := newScripted()
	call := agenttest.New()
	done := listenAsync(ctx, call, rec, ListenOptions{})
	<-rec.opts
	call.Hangup()
	if r := wait(t, ctx, done); !errors.Is(r.err, agent.ErrHangup) {
		t.Fatalf("Listen after hangup = %+v, %v", r.res, r.err)
	}
}

func TestListenStreamEnds(t *testing.T) {
	ctx := testContext(t)
	rec := newScripted()
	rec.stream.err = errors.New("connection reset")
	close(rec.stream.results)
	r := wait(t, ctx, listenAsync(ctx, agenttest.New(), rec, ListenOptions{}))
	if !errors.Is(r.err, ErrStreamEnded) || !errors.Is(r.err, rec.stream.err) {
		t.Fatalf("Listen = %v, want ErrStreamEnded with the cause", r.err)
	}
}

func TestListenErrors(t *testing.T) {
	ctx := testContext(t)
	rec := newScripted()
	rec.err = errors.New("no engine")
	if _, err := Listen(ctx, agenttest.New(), rec, ListenOptions{}); !errors.Is(err, rec.err) {
		t.Errorf("Start failure: %v", err)
	}
	failing := errors.New("prompt broke")
	rec = newScripted()
	_, err := Listen(ctx, agenttest.New(), rec, ListenOptions{Prompt: func(context.Context) error { return failing }})
	if !errors.Is(err, failing) {
		t.Errorf("prompt failure: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Listen(cancelled, agenttest.New(), newScripted(), ListenOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
