package flow

import (
	"testing"
	"time"
)

func TestSystemClock(t *testing.T) {
	var c Clock = systemClock{}
	fired := c.NewTimer(time.Millisecond)
	select {
	case <-fired.C():
	case <-time.After(5 * time.Second):
		t.Fatal("timer did not fire")
	}
	if fired.Stop() {
		t.Error("Stop reported stopping a fired timer")
	}
	if !c.NewTimer(time.Hour).Stop() {
		t.Error("Stop did not report stopping a pending timer")
	}
}
