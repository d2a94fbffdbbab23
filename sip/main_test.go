package sip_test

import (
	"testing"
	"time"

	siplib "github.com/emiago/sipgo/sip"
	"go.uber.org/goleak"
)

// Test timers: sipgo's RFC 3261 timers are package variables, shared by
// every server in this process. T1 = 50 ms (default 500 ms) makes the
// 64*T1 waits - a 2xx never ACKed, a BYE never answered - take 3.2 s
// instead of 32 s; loopback round trips, sipp's and baresip's included,
// are far below T1. T2 and T4 keep their RFC ratios to T1 (8x, 10x), so
// T2 stays below 64*T1 as sipgo's 2xx retransmission loop needs.
const (
	testT1 = 50 * time.Millisecond
	testT2 = 8 * testT1
	testT4 = 10 * testT1
)

// TestMain shortens sipgo's timers, then fails the package if any test
// leaves a goroutine behind: every Server is closed by its test, and a
// closed Server owns no goroutines, sipgo's included.
func TestMain(m *testing.M) {
	siplib.SetTimers(testT1, testT2, testT4)
	goleak.VerifyTestMain(m)
}
