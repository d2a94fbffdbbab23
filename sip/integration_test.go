package sip_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/echo"
	"github.com/sipagent/sipagent/agent/flow"
	"github.com/sipagent/sipagent/media"
)

func demoAgent(t *testing.T) agent.Agent {
	t.Helper()
	f, err := flow.Demo()
	if err != nil {
		t.Fatal(err)
	}
	a, err := flow.New(f, flow.WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// The caller's audio reaches the agent intact: sipp streams a chirp as
// PCMU and the agent's decoded frames contain it.
func TestCallAudioReachesAgent(t *testing.T) {
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			rec := newRecorder()
			srv := startServer(t, map[string]agent.Agent{"rec": rec})
			dir := t.TempDir()
			sig := testSignal()
			writeUlawWAV(t, filepath.Join(dir, "audio.wav"), sig)

			out, err := runSipp(t, srv, sippRun{Scenario: "uac_stream.xml", User: "rec", Transport: transport, Dir: dir})
			if err != nil {
				t.Fatalf("sipp: %v\n%s", err, out)
			}
			rec.wait(t)
			waitIdle(t, srv)

			rec.mu.Lock()
			defer rec.mu.Unlock()
			if got := rec.info.Header("X-Test-Header"); got != "stream" {
				t.Errorf("agent saw X-Test-Header %q, want stream", got)
			}
			if rec.info.Codec != "PCMU" {
				t.Errorf("codec = %q, want PCMU", rec.info.Codec)
			}
			// Compare against the signal as G.711 quantised it.
			want := make([]int16, len(sig))
			enc := make([]byte, len(sig))
			media.PCMU.Encode(enc, sig)
			media.PCMU.Decode(want, enc)
			// The middle second is enough and keeps the search cheap.
			mid := want[4000:12000]
			c, lag := bestCorrelation(rec.pcm, mid)
			t.Logf("heard %d samples; correlation %.3f at lag %d", len(rec.pcm), c, lag)
			if c < 0.95 {
				t.Errorf("caller audio not found in what the agent heard: correlation %.3f", c)
			}
		})
	}
}

// A key press reaches the demo flow and chooses its branch: 3 says
// goodbye and sipagent hangs up with BYE, which sipp answers.
func TestDTMFChoosesMenuBranch(t *testing.T) {
	spy := &digitSpy{inner: demoAgent(t)}
	srv := startServer(t, map[string]agent.Agent{"demo": spy})
	start := time.Now()
	out, err := runSipp(t, srv, sippRun{Scenario: "uac_dtmf.xml", User: "demo"})
	if err != nil {
		t.Fatalf("sipp: %v\n%s", err, out)
	}
	waitIdle(t, srv)
	if got := spy.seen(); got != "3" {
		t.Errorf("digits seen by the agent = %q, want 3", got)
	}
	t.Logf("call with menu choice took %v", time.Since(start).Round(time.Millisecond))
}

// digitSpy wraps an agent and records the digits its call delivers.
type digitSpy struct {
	inner  agent.Agent
	mu     sync.Mutex
	digits strings.Builder
}

func (s *digitSpy) Serve(ctx context.Context, call agent.Call) error {
	tee := make(chan rune, 16)
	go func() {
		defer close(tee)
		for d := range call.DTMF() {
			s.mu.Lock()
			s.digits.WriteRune(d)
			s.mu.Unlock()
			tee <- d
		}
	}()
	return s.inner.Serve(ctx, &spyCall{Call: call, dtmf: tee})
}

func (s *digitSpy) seen() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.digits.String()
}

type spyCall struct {
	agent.Call
	dtmf chan rune
}

func (c *spyCall) DTMF() <-chan rune { return c.dtmf }

// An agent that returns hangs the call up: sipagent sends BYE.
func TestAgentHangupSendsBye(t *testing.T) {
	hangup := agent.AgentFunc(func(ctx context.Context, call agent.Call) error {
		select {
		case <-time.After(300 * time.Millisecond):
		case <-ctx.Done():
		}
		return nil
	})
	srv := startServer(t, map[string]agent.Agent{"bye": hangup})
	if out, err := runSipp(t, srv, sippRun{Scenario: "uac_wait_bye.xml", User: "bye"}); err != nil {
		t.Fatalf("sipp: %v\n%s", err, out)
	}
	waitIdle(t, srv)
}

// CANCEL while ringing: 200 to the CANCEL, 487 to the INVITE, and the
// agent never runs.
func TestCancelBeforeAnswer(t *testing.T) {
	ran := make(chan struct{}, 1)
	a := agent.AgentFunc(func(ctx context.Context, call agent.Call) error { ran <- struct{}{}; return nil })
	srv := startServer(t, map[string]agent.Agent{"ring": a}, withRingTime(5*time.Second))
	if out, err := runSipp(t, srv, sippRun{Scenario: "uac_cancel.xml", User: "ring"}); err != nil {
		t.Fatalf("sipp: %v\n%s", err, out)
	}
	waitIdle(t, srv)
	select {
	case <-ran:
		t.Error("agent ran for a cancelled call")
	default:
	}
}

// Hold and unhold by re-INVITE keep the call up; answers mirror the
// direction (checked by the scenario).
func TestReInviteHoldUnhold(t *testing.T) {
	rec := newRecorder()
	srv := startServer(t, map[string]agent.Agent{"rec": rec})
	if out, err := runSipp(t, srv, sippRun{Scenario: "uac_hold.xml", User: "rec"}); err != nil {
		t.Fatalf("sipp: %v\n%s", err, out)
	}
	rec.wait(t)
	waitIdle(t, srv)
}

// No common codec: 488 with a Warning header (checked by the scenario).
func TestCodecMismatch488(t *testing.T) {
	rec := newRecorder()
	srv := startServer(t, map[string]agent.Agent{"rec": rec})
	if out, err := runSipp(t, srv, sippRun{Scenario: "uac_488.xml", User: "rec"}); err != nil {
		t.Fatalf("sipp: %v\n%s", err, out)
	}
	waitIdle(t, srv)
}

// INVITE without SDP: sipagent offers in the 200 and takes the answer
// from the ACK; the call runs with the codec the ACK chose.
func TestLateOffer(t *testing.T) {
	rec := newRecorder()
	srv := startServer(t, map[string]agent.Agent{"rec": rec})
	if out, err := runSipp(t, srv, sippRun{Scenario: "uac_late_offer.xml", User: "rec"}); err != nil {
		t.Fatalf("sipp: %v\n%s", err, out)
	}
	rec.wait(t)
	waitIdle(t, srv)
}

// An echo call over a real RTP exchange: what sipp streams comes back.
func TestEchoAgentCall(t *testing.T) {
	srv := startServer(t, map[string]agent.Agent{"echo": echo.New(100 * time.Millisecond)})
	dir := t.TempDir()
	writeUlawWAV(t, filepath.Join(dir, "audio.wav"), testSignal())
	if out, err := runSipp(t, srv, sippRun{Scenario: "uac_stream.xml", User: "echo", Dir: dir}); err != nil {
		t.Fatalf("sipp: %v\n%s", err, out)
	}
	waitIdle(t, srv)
}
