package echo

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sipagent/sipagent/agent"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// frame returns a full frame with every sample set to v.
func frame(v int16) []int16 {
	f := make([]int16, agent.FrameSamples)
	for i := range f {
		f[i] = v
	}
	return f
}
