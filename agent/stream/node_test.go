package stream

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/agenttest"
)

// TestNodeEchoAgent streams a call to testdata/echo-agent.mjs, a Media
// Streams agent written independently of this package on the Node.js `ws`
// library: a second implementation of the protocol, so that our wire
// format is checked by something other than our own decoder. The agent
// validates every message it gets (logging errors), echoes the caller's
// audio back and sends a mark after 1 s of it.
//
// It needs node and npm; without them it fails rather than skips, so a
// machine that cannot run it is noticed.
func TestNodeEchoAgent(t *testing.T) {
	node, npm := lookTool(t, "node"), lookTool(t, "npm")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := os.Stat(filepath.Join("testdata", "node_modules", "ws")); err != nil {
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = "testdata"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in testdata: %v\n%s", err, out)
		}
	}

	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	events, port := startEchoAgent(ctx, t, node)

	call := agenttest.New(agenttest.WithInfo(agent.Info{CallID: "node-test@sipagent"}))
	done := startRun(ctx, call, Options{URL: "ws://127.0.0.1:" + port + "/media", Parameters: map[string]string{"from": "node test"}})
	if ev := events.next(ctx, t, "start"); ev.CustomParameters["from"] != "node test" {
		t.Errorf("agent got customParameters %q", ev.CustomParameters)
	}

	// 1.5 s of the caller's audio goes out and must come back whole.
	const frames = 75
	var sent []int16
	for i := range frames {
		frame := pcmOf(mulawSignal(agent.FrameSamples, i*agent.FrameSamples))
		sent = append(sent, frame...)
		if err := call.SendAudio(ctx, frame); err != nil {
			t.Fatal(err)
		}
	}
	echoed, err := call.AwaitPlayed(ctx, len(sent))
	if err != nil {
		t.Fatal(err)
	}
	if c := correlation(echoed, sent); len(echoed) != len(sent) || c < 0.999 || !slices.Equal(echoed, sent) {
		t.Errorf("echo: %d samples back for %d sent, correlation %.3f", len(echoed), len(sent), c)
	}

	// The mark the agent sent after 1 s of echo comes back, after that
	// audio was played.
	events.next(ctx, t, "mark")
	if n := len(call.Snapshot().Played); n < agent.SampleRate {
		t.Errorf("mark returned with %d samples played, want at least 1 s", n)
	}
	if err := call.Press(ctx, "7"); err != nil {
		t.Fatal(err)
	}
	if ev := events.next(ctx, t, "dtmf"); ev.Digit != "7" {
		t.Errorf("agent got digit %q", ev.Digit)
	}

	call.Hangup()
	events.next(ctx, t, "stop")
	if ev := events.next(ctx, t, "closed"); ev.Code != 1000 {
		t.Errorf("agent saw close code %d, want 1000", ev.Code)
	}
	if r := result(ctx, t, done); r.res.End != EndHangup || r.res.Stats.MediaSent != frames {
		t.Errorf("Run = %+v, %v", r.res, r.err)
	}
	if media := events.count["media"]; media != frames {
		t.Errorf("agent logged %d media messages, want %d", media, frames)
	}
}

// lookTool finds a program the test needs, failing with what to install.
func lookTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found (%v): this test runs a Node.js Media Streams agent; "+
			"install the Debian packages nodejs and npm (apt-get install nodejs npm)", name, err)
	}
	return path
}

// agentEvent is one JSON line the echo agent logs.
type agentEvent struct {
	Event            string            `json:"event"`
	Error            string            `json:"error"`
	Name             string            `json:"name"`
	Digit            string            `json:"digit"`
	Code             int               `json:"code"`
	CustomParameters map[string]string `json:"customParameters"`
}

// agentEvents reads the echo agent's log.
type agentEvents struct {
	lines <-chan string
	count map[string]int
}

// startEchoAgent starts the agent on a free port and returns its log and
// the port. The agent is killed, if still running, when the test ends.
func startEchoAgent(ctx context.Context, t *testing.T, node string) (*agentEvents, string) {
	t.Helper()
	cmd := exec.Command(node, "echo-agent.mjs", "0")
	cmd.Dir = "testdata"
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 256)
	scanDone := make(chan struct{})
	go func() {
		defer close(scanDone)
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-scanDone // stdout must be read to the end before Wait
		_ = cmd.Wait()
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("echo-agent.mjs stderr:\n%s", stderr.String())
		}
	})

	ev := &agentEvents{lines: lines, count: map[string]int{}}
	first := ev.line(ctx, t)
	port, ok := strings.CutPrefix(first, "listening ")
	if !ok {
		t.Fatalf("echo agent said %q, want \"listening <port>\"", first)
	}
	return ev, port
}

// line returns the agent's next line of output.
func (e *agentEvents) line(ctx context.Context, t *testing.T) string {
	t.Helper()
	select {
	case l, ok := <-e.lines:
		if !ok {
			t.Fatal("echo agent exited")
		}
		return l
	case <-ctx.Done():
		t.Fatalf("echo agent silent: %v", ctx.Err())
		return ""
	}
}

// next returns the agent's next event of kind, counting those it skips.
// An error the agent logs fails the test.
func (e *agentEvents) next(ctx context.Context, t *testing.T, kind string) agentEvent {
	t.Helper()
	for {
		l := e.line(ctx, t)
		var ev agentEvent
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("echo agent logged %q: %v", l, err)
		}
		e.count[ev.Event]++
		if ev.Event == "error" {
			t.Errorf("echo agent found a protocol error: %s", ev.Error)
			continue
		}
		if ev.Event == kind {
			return ev
		}
	}
}

// correlation returns the normalised correlation of a and b over their
// common length: 1 for the same signal, near 0 for unrelated ones.
func correlation(a, b []int16) float64 {
	n := min(len(a), len(b))
	var ab, aa, bb float64
	for i := range n {
		x, y := float64(a[i]), float64(b[i])
		ab += x * y
		aa += x * x
		bb += y * y
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}
