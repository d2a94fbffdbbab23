package stream

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sipagent/sipagent/media"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testContext returns a context that bounds a test: every wait in these
// tests is on an event, and this catches the event that never comes.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// mulawSignal returns n bytes of mu-law that are not silence and differ
// from sample to sample, so a reordered or shifted byte shows.
func mulawSignal(n, seed int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((i+seed)*37 + 11)
	}
	return b
}

// pcmOf returns the samples mulaw decodes to. Encoding them to mu-law
// gives mulaw back (bar the two codes of zero), so audio made this way
// survives the round trip exactly.
func pcmOf(mulaw []byte) []int16 {
	pcm := make([]int16, len(mulaw))
	media.PCMU.Decode(pcm, mulaw)
	return pcm
}
