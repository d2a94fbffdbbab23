package api

import (
	"testing"
	"time"

	siplib "github.com/emiago/sipgo/sip"
	"go.uber.org/goleak"
)

// TestMain shortens sipgo's RFC 3261 timers for the integration test's
// real SIP server, as the sip package's tests do (T1 = 50 ms; loopback
// round trips are far below it), then fails the package if any test
// leaves a goroutine behind: dials the API started, the SIP server's,
// sipgo's, and HTTP connections.
func TestMain(m *testing.M) {
	const t1 = 50 * time.Millisecond
	siplib.SetTimers(t1, 8*t1, 10*t1)
	goleak.VerifyTestMain(m)
}
