package stream

import (
	"slices"
	"testing"

	"github.com/sipagent/sipagent/agent"
)

// drain pops everything queued.
func drain(q *sendQueue) []outItem {
	var items []outItem
	for {
		var it outItem
		if ok, _ := q.pop(&it); !ok {
			return items
		}
		items = append(items, it)
	}
}

func TestSendQueueDropsOldestMedia(t *testing.T) {
	q := newSendQueue()
	q.pushEvent(outStart, "")
	for i := range sendQueueLen + 10 {
		q.pushMedia([]int16{0}, uint64(i))
	}
	q.pushEvent(outMark, "m")
	items := drain(q)
	if len(items) != sendQueueLen {
		t.Fatalf("%d items queued, want %d", len(items), sendQueueLen)
	}
	// start stays first; the 12 oldest frames made room for the newer
	// ones and the mark.
	if items[0].kind != outStart || items[1].ts != 12 || items[len(items)-2].ts != sendQueueLen+9 ||
		items[len(items)-1].kind != outMark || items[len(items)-1].text != "m" {
		t.Errorf("queue holds start %v, first frame at %d, last frame at %d, then %v",
			items[0].kind, items[1].ts, items[len(items)-2].ts, items[len(items)-1].kind)
	}
	if media, events := q.dropped(); media != 12 || events != 0 {
		t.Errorf("dropped %d frames, %d events; want 12, 0", media, events)
	}
}

func TestSendQueueFullOfEvents(t *testing.T) {
	q := newSendQueue()
	for range sendQueueLen {
		q.pushEvent(outDTMF, "1")
	}
	q.pushMedia([]int16{0}, 0)
	if q.pushEvent(outDTMF, "2") {
		t.Error("event queued past the end")
	}
	if media, events := q.dropped(); media != 1 || events != 1 {
		t.Errorf("dropped %d frames, %d events; want 1, 1", media, events)
	}
}

func TestSendQueueEncodesAndFinishes(t *testing.T) {
	q := newSendQueue()
	pcm := pcmOf(mulawSignal(agent.FrameSamples, 3))
	q.pushMedia(pcm, 20)
	q.finish()
	q.pushMedia(pcm, 40)
	if q.pushEvent(outStop, "") {
		t.Error("event queued after finish")
	}
	var it outItem
	if ok, done := q.pop(&it); !ok || done {
		t.Fatalf("pop = %t, %t", ok, done)
	}
	if it.n != agent.FrameSamples || !slices.Equal(pcmOf(it.audio[:]), pcm) {
		t.Error("media not encoded to the mu-law it came from")
	}
	if ok, done := q.pop(&it); ok || !done {
		t.Errorf("pop after the last = %t, %t; want finished", ok, done)
	}
}
