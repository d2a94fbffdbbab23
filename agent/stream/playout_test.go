package stream

import (
	"context"
	"slices"
	"testing"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/agenttest"
)

func TestPlayoutBounds(t *testing.T) {
	p := newPlayout()
	second := make([]int16, agent.SampleRate)
	for range MaxQueuedAudio / agent.SampleRate {
		if !p.pushAudio(second) {
			t.Fatal("audio under the limit dropped")
		}
	}
	if p.pushAudio([]int16{1}) {
		t.Error("audio over the limit queued")
	}
	for range MaxPendingMarks {
		p.pushMark("m")
	}
	if p.pushMark("one too many") {
		t.Error("mark over the limit queued")
	}
	if samples, marks := p.dropped(); samples != 1 || marks != 1 {
		t.Errorf("dropped %d samples, %d marks; want 1, 1", samples, marks)
	}
	if marks := p.clear(); len(marks) != MaxPendingMarks {
		t.Errorf("clear returned %d marks", len(marks))
	}
	if !p.pushAudio(second) {
		t.Error("audio dropped after a clear emptied the queue")
	}
}

func TestPlayoutJoinsChunks(t *testing.T) {
	p := newPlayout()
	for i := range 100 {
		p.pushAudio([]int16{int16(i)}) // tiny chunks become one
	}
	p.pushMark("m")
	p.pushAudio(make([]int16, maxChunk))
	p.pushAudio([]int16{7})
	var lens []int
	for {
		it, _, ok, _ := p.next()
		if !ok {
			break
		}
		if it.isMark {
			p.takeMark(p.epoch)
			lens = append(lens, -1)
			continue
		}
		lens = append(lens, len(it.pcm))
	}
	if want := []int{100, -1, maxChunk, 1}; !slices.Equal(lens, want) {
		t.Errorf("chunks %v, want %v", lens, want)
	}
}

func TestPlayoutRunDrains(t *testing.T) {
	ctx := testContext(t)
	p := newPlayout()
	call := agenttest.New()
	p.pushAudio([]int16{1, 2})
	p.pushMark("a")
	p.pushAudio([]int16{3})
	p.drain()
	var marks []string
	if err := p.run(ctx, call, func(name string) { marks = append(marks, name) }); err != nil {
		t.Fatal(err)
	}
	if got := call.Snapshot().Played; !slices.Equal(got, []int16{1, 2, 3}) || !slices.Equal(marks, []string{"a"}) {
		t.Errorf("played %v, marks %q", got, marks)
	}
}

func TestPlayoutRunStops(t *testing.T) {
	ctx := testContext(t)
	call := agenttest.New()
	runCtx, cancel := context.WithCancel(ctx)
	cancel()
	if err := newPlayout().run(runCtx, call, nil); err != context.Canceled {
		t.Errorf("run on a cancelled context = %v", err)
	}
	p := newPlayout()
	p.pushAudio([]int16{1})
	call.Hangup()
	if err := p.run(ctx, call, nil); err != agent.ErrHangup {
		t.Errorf("run after hang-up = %v", err)
	}
}
