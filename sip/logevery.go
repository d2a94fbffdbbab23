package sip

import (
	"sync"
	"time"
)

// limitLogEvery is how often "call limit reached" may be logged: a caller
// flooding a full server must not flood the log as well.
const limitLogEvery = 10 * time.Second

// logEvery lets a recurring event be logged at most once per every, and
// counts the occurrences each line stands for. The zero value logs every
// occurrence.
type logEvery struct {
	every time.Duration

	mu    sync.Mutex
	last  time.Time
	count uint64
}

// tick records one occurrence at now. It reports whether to log, and how
// many occurrences (this one included) the line stands for.
func (l *logEvery) tick(now time.Time) (uint64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.count++
	if !l.last.IsZero() && now.Sub(l.last) < l.every {
		return 0, false
	}
	n := l.count
	l.last, l.count = now, 0
	return n, true
}
