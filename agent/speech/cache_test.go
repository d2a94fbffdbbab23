package speech

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
)

// countingSynth returns one sample, the text's length, and counts calls
// per text. If gate is set, each call waits for it to be closed.
type countingSynth struct {
	mu     sync.Mutex
	calls  map[string]int
	gate   chan struct{}
	err    error
	called chan string // receives each text as a call starts, if set
}

func newCountingSynth() *countingSynth { return &countingSynth{calls: map[string]int{}} }

func (s *countingSynth) Synthesize(ctx context.Context, text string) ([]int16, error) {
	s.mu.Lock()
	s.calls[text]++
	s.mu.Unlock()
	if s.called != nil {
		s.called <- text
	}
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if s.err != nil {
		return nil, s.err
	}
	return []int16{int16(len(text))}, nil
}

func (s *countingSynth) count(text string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[text]
}

func TestCacheRepeats(t *testing.T) {
	ctx := testContext(t)
	synth := newCountingSynth()
	c := NewCache(synth, 0)
	for range 3 {
		pcm, err := c.Synthesize(ctx, "hello")
		if err != nil || !slices.Equal(pcm, []int16{5}) {
			t.Fatalf("Synthesize = %v, %v", pcm, err)
		}
		pcm[0] = 99 // the caller owns its copy
	}
	if n := synth.count("hello"); n != 1 {
		t.Errorf("synthesized %d times, want 1", n)
	}
}

func TestCacheEvictsLeastRecent(t *testing.T) {
	ctx := testContext(t)
	synth := newCountingSynth()
	c := NewCache(synth, 2)
	for _, text := range []string{"a", "b", "a", "c", "a", "b"} {
		if _, err := c.Synthesize(ctx, text); err != nil {
			t.Fatal(err)
		}
	}
	// "c" evicted "b" (least recent), so "b" was synthesized twice.
	for text, want := range map[string]int{"a": 1, "b": 2, "c": 1} {
		if n := synth.count(text); n != want {
			t.Errorf("%q synthesized %d times, want %d", text, n, want)
		}
	}
	if c.Len() != 2 {
		t.Errorf("Len = %d, want 2", c.Len())
	}
}

func TestCacheSharesConcurrentSynthesis(t *testing.T) {
	ctx := testContext(t)
	synth := newCountingSynth()
	synth.gate = make(chan struct{})
	synth.called = make(chan string, 8)
	c := NewCache(synth, 4)
	const n = 5
	results := make(chan error, n)
	for range n {
		go func() {
			pcm, err := c.Synthesize(ctx, "shared")
			if err == nil && !slices.Equal(pcm, []int16{6}) {
				err = errors.New("wrong audio")
			}
			results <- err
		}()
	}
	<-synth.called
	close(synth.gate)
	for range n {
		if err := <-results; err != nil {
			t.Error(err)
		}
	}
	if got := synth.count("shared"); got != 1 {
		t.Errorf("synthesized %d times, want 1", got)
	}
}

func TestCacheRetriesAfterCancelledLeader(t *testing.T) {
	ctx := testContext(t)
	synth := newCountingSynth()
	synth.gate = make(chan struct{})
	synth.called = make(chan string, 8)
	c := NewCache(synth, 4)

	leaderCtx, cancelLeader := context.WithCancel(ctx)
	leader := make(chan error, 1)
	go func() {
		_, err := c.Synthesize(leaderCtx, "x")
		leader <- err
	}()
	<-synth.called
	follower := make(chan error, 1)
	go func() {
		_, err := c.Synthesize(ctx, "x")
		follower <- err
	}()
	cancelLeader()
	if err := <-leader; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader = %v, want context.Canceled", err)
	}
	<-synth.called // the follower's own attempt
	close(synth.gate)
	if err := <-follower; err != nil {
		t.Fatalf("follower = %v, want success", err)
	}
}

func TestCacheDoesNotKeepFailures(t *testing.T) {
	ctx := testContext(t)
	synth := newCountingSynth()
	synth.err = errors.New("engine down")
	c := NewCache(synth, 4)
	for range 2 {
		if _, err := c.Synthesize(ctx, "x"); !errors.Is(err, synth.err) {
			t.Fatalf("Synthesize = %v, want %v", err, synth.err)
		}
	}
	if n := synth.count("x"); n != 2 {
		t.Errorf("failing text tried %d times, want 2", n)
	}
}
