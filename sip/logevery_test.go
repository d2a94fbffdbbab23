package sip

import (
	"testing"
	"time"
)

func TestLogEvery(t *testing.T) {
	l := logEvery{every: limitLogEvery}
	t0 := time.Unix(1000, 0)
	steps := []struct {
		at   time.Duration
		n    uint64
		logs bool
	}{
		{0, 1, true},                // the first occurrence is logged at once
		{time.Second, 0, false},     // then held back
		{2 * time.Second, 0, false}, //
		{limitLogEvery, 3, true},    // the next line counts all since the last
		{limitLogEvery + 1, 0, false},
	}
	for i, s := range steps {
		n, ok := l.tick(t0.Add(s.at))
		if n != s.n || ok != s.logs {
			t.Errorf("step %d: tick = %d, %v; want %d, %v", i, n, ok, s.n, s.logs)
		}
	}
}
