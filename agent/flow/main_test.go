package flow

import (
	"bytes"
	"context"
	"math"
	"slices"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"go.uber.org/goleak"

	"github.com/sipagent/sipagent/agent/agenttest"
	"github.com/sipagent/sipagent/media/wav"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fakeClock is a Clock whose timers fire only when a test says so.
type fakeClock struct {
	mu      sync.Mutex
	armed   []*fakeTimer
	created int // timers made so far
	changed chan struct{}
}

func newFakeClock() *fakeClock { return &fakeClock{changed: make(chan struct{})} }

type fakeTimer struct {
	clock *fakeClock
	d     time.Duration
	c     chan time.Time
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	t := &fakeTimer{clock: c, d: d, c: make(chan time.Time, 1)}
	c.mu.Lock()
	c.armed = append(c.armed, t)
	c.created++
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	return t
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	c := t.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.Index(c.armed, t)
	if i < 0 {
		return false
	}
	c.armed = slices.Delete(c.armed, i, i+1)
	return true
}

// fire waits until a timer of duration d is armed and fires it.
func (c *fakeClock) fire(ctx context.Context, d time.Duration) error {
	for {
		c.mu.Lock()
		i := slices.IndexFunc(c.armed, func(t *fakeTimer) bool { return t.d == d })
		if i >= 0 {
			t := c.armed[i]
			c.armed = slices.Delete(c.armed, i, i+1)
			c.mu.Unlock()
			t.c <- time.Time{}
			return nil
		}
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// awaitCreated waits until n timers have been made in all. A flow makes
// a new timer for each key a gather takes, so this tells a test that
// earlier keys have been taken.
func (c *fakeClock) awaitCreated(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		created, changed := c.created, c.changed
		c.mu.Unlock()
		if created >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// tone returns n samples of a sine at freq Hz, 8 kHz.
func tone(freq float64, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(8000 * math.Sin(2*math.Pi*freq*float64(i)/8000))
	}
	return s
}

// wavFile encodes pcm as an 8 kHz WAV file.
func wavFile(t testing.TB, pcm []int16) *fstest.MapFile {
	t.Helper()
	var buf bytes.Buffer
	if err := wav.Encode(&buf, pcm, 8000); err != nil {
		t.Fatal(err)
	}
	return &fstest.MapFile{Data: buf.Bytes()}
}

// Prompts of the test file system: a.wav and b.wav are distinct tones.
var (
	promptA = tone(440, 800)
	promptB = tone(660, 480)
)

func testFS(t testing.TB) fstest.MapFS {
	return fstest.MapFS{
		"a.wav":           wavFile(t, promptA),
		"b.wav":           wavFile(t, promptB),
		"sub/c.wav":       wavFile(t, promptB),
		"empty.wav":       wavFile(t, nil),
		"bad.wav":         {Data: []byte("not a wav file")},
		"flows/main.yaml": {Data: []byte("start: a\nsteps:\n  a: {play: c.wav, next: b}\n  b: {hangup: true}\n")},
		"flows/c.wav":     wavFile(t, promptA),
	}
}

// cat concatenates sample slices.
func cat(parts ...[]int16) []int16 { return slices.Concat(parts...) }

// run parses yaml, starts it on a new call with the options and returns
// the call, the fake clock and Serve's result channel.
func run(t *testing.T, ctx context.Context, yaml string, callOpts []agenttest.Option, opts ...Option) (*agenttest.Call, *fakeClock, <-chan error) {
	t.Helper()
	f, err := Parse([]byte(yaml), testFS(t))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	clock := newFakeClock()
	a, err := New(f, append([]Option{WithClock(clock)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	call := agenttest.New(callOpts...)
	return call, clock, agenttest.Start(ctx, a, call)
}

// played waits for Serve to return nil and checks what was played.
func played(t *testing.T, ctx context.Context, call *agenttest.Call, done <-chan error, want []int16) {
	t.Helper()
	if err := agenttest.Result(ctx, done); err != nil {
		t.Fatalf("Serve = %v, want nil", err)
	}
	if got := call.Snapshot().Played; !slices.Equal(got, want) {
		t.Errorf("played %d samples, want %d", len(got), len(want))
	}
}

// fakeSynth says each text as one silent sample per byte.
type fakeSynth struct {
	mu    sync.Mutex
	texts []string
	err   error
}

func (s *fakeSynth) Synthesize(_ context.Context, text string) ([]int16, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.texts = append(s.texts, text)
	if s.err != nil {
		return nil, s.err
	}
	return make([]int16, len(text)), nil
}

func (s *fakeSynth) said() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.texts)
}
