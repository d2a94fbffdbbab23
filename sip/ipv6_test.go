package sip_test

import (
	"path/filepath"
	"testing"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/sip"
)

// A call over IPv6: signalling and RTP on ::1, SDP with IN IP6, and the
// caller's audio reaches the agent.
func TestIPv6Call(t *testing.T) {
	rec := newRecorder()
	srv := startServer(t, map[string]agent.Agent{"rec": rec}, func(c *sip.Config) {
		c.Listeners = []sip.Listener{{Transport: "udp", Addr: "[::1]:0"}}
	})
	dir := t.TempDir()
	writeUlawWAV(t, filepath.Join(dir, "audio.wav"), testSignal())
	out, err := runSipp(t, srv, sippRun{Scenario: "uac_stream.xml", User: "rec", Dir: dir, Local: "::1"})
	if err != nil {
		t.Fatalf("sipp: %v\n%s", err, out)
	}
	rec.wait(t)
	waitIdle(t, srv)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if !rec.info.Source.Addr().Is6() {
		t.Errorf("source %v is not IPv6", rec.info.Source)
	}
	if c, _ := bestCorrelation(rec.pcm, testSignal()[4000:12000]); c < 0.9 {
		t.Errorf("caller audio not heard over IPv6: correlation %.3f", c)
	}
}
