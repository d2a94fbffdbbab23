package speech

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A busy recognizer: utterances past the queue are dropped and counted,
// and each recognised one is announced and finalised in order.
func TestUtteranceStreamQueue(t *testing.T) {
	ctx := testContext(t)
	started := make(chan int, 8)
	gate := make(chan struct{})
	recognize := func(ctx context.Context, pcm []int16) (string, float64, error) {
		started <- len(pcm)
		select {
		case <-gate:
		case <-ctx.Done():
			return "", 0, ctx.Err()
		}
		return "burst", 0.5, nil
	}
	s := newUtteranceStream(ctx, VADConfig{EndSilence: 200 * ms}, 2, recognize, nil)
	defer func() { _ = s.Close() }()
	burst := concat(tone(300*ms, 440, -15), silence(400*ms))
	// Odd-sized writes: frames are put together across them.
	write := func(pcm []int16) {
		for len(pcm) > 0 {
			n := min(len(pcm), 97)
			if err := s.Write(pcm[:n]); err != nil {
				t.Fatal(err)
			}
			pcm = pcm[n:]
		}
	}
	write(concat(silence(500*ms), burst))
	n := <-started
	// The utterance holds the pre-roll, the burst and the end silence.
	if min, max := samples(300*ms+200*ms), samples(300*ms+300*ms+400*ms); n < min || n > max {
		t.Errorf("utterance of %d samples, want %d to %d", n, min, max)
	}
	for range 4 {
		write(burst)
	}
	if got := s.Dropped(); got != 2 {
		t.Errorf("Dropped = %d, want 2 (one recognising, two queued)", got)
	}
	close(gate)
	var finals, starts int
	for finals < 3 {
		select {
		case tr := <-s.Results():
			switch {
			case tr.SpeechStarted:
				starts++
			case tr.Final && tr.Text == "burst" && tr.Confidence == 0.5:
				finals++
			default:
				t.Errorf("unexpected %+v", tr)
			}
		case <-ctx.Done():
			t.Fatalf("%d finals before the timeout", finals)
		}
	}
	if starts != 5 {
		t.Errorf("%d SpeechStarted, want 5", starts)
	}
}

func TestUtteranceStreamClose(t *testing.T) {
	ctx := testContext(t)
	never := func(ctx context.Context, _ []int16) (string, float64, error) {
		<-ctx.Done()
		return "", 0, ctx.Err()
	}
	s := newUtteranceStream(ctx, VADConfig{}, 1, never, nil)
	if err := s.Write(concat(tone(200*ms, 440, -15), silence(time.Second))); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if err := s.Write(make([]int16, 160)); !errors.Is(err, ErrStreamClosed) {
		t.Errorf("Write after Close = %v", err)
	}
	for range s.Results() { // drains, then closed
	}

	// The context ending closes the stream too.
	cctx, cancel := context.WithCancel(ctx)
	s = newUtteranceStream(cctx, VADConfig{}, 1, never, nil)
	cancel()
	for range s.Results() {
	}
	if err := s.Write(make([]int16, 160)); !errors.Is(err, ErrStreamClosed) {
		t.Errorf("Write after cancel = %v", err)
	}
	_ = s.Close()
}
