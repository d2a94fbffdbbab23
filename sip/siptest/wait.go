package siptest

import "time"

// Eventually checks cond every 10 ms until it holds or d has passed, and
// reports whether it held: for state that changes without an event to
// wait on (a registrar's table, a counter).
func Eventually(d time.Duration, cond func() bool) bool {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			return cond()
		}
	}
	return true
}
