package flow

import "time"

// Clock makes the timers a flow waits on: gather timeouts, pauses and echo
// durations. Tests inject a fake one to fire timers at will.
type Clock interface {
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer, like *time.Timer.
type Timer interface {
	C() <-chan time.Time
	// Stop prevents the timer from firing. It reports whether it did
	// so, false if the timer had already fired or stopped.
	Stop() bool
}

// systemClock is the Clock of real time.
type systemClock struct{}

func (systemClock) NewTimer(d time.Duration) Timer { return systemTimer{time.NewTimer(d)} }

type systemTimer struct{ t *time.Timer }

func (t systemTimer) C() <-chan time.Time { return t.t.C }
func (t systemTimer) Stop() bool          { return t.t.Stop() }
