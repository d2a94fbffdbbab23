package sip_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/echo"
	"github.com/sipagent/sipagent/sip"
)

// Stats counts every call once, by how it ended, with its RTP: two echo
// calls the caller hangs up, a call refused for its codecs, and one whose
// agent fails.
func TestStatsCountCalls(t *testing.T) {
	t.Parallel()
	failing := agent.AgentFunc(func(context.Context, agent.Call) error { return errors.New("agent broke") })
	srv := startServer(t, map[string]agent.Agent{"echo": echo.New(100 * time.Millisecond), "fail": failing})
	if !srv.Ready() {
		t.Error("not ready after Start")
	}
	dir := t.TempDir()
	writeUlawWAV(t, filepath.Join(dir, "audio.wav"), testSignal())
	for _, r := range []sippRun{
		{Scenario: "uac_stream.xml", User: "echo", Dir: dir, Calls: 2},
		{Scenario: "uac_488.xml", User: "echo"},
		{Scenario: "uac_wait_bye.xml", User: "fail"},
	} {
		if out, err := runSipp(t, srv, r); err != nil {
			t.Fatalf("sipp %s: %v\n%s", r.Scenario, err, out)
		}
	}
	waitIdle(t, srv)

	st := srv.Stats()
	want := map[sip.CallOutcome]uint64{sip.OutcomeCompleted: 2, sip.OutcomeRejected: 1, sip.OutcomeAgentError: 1}
	for o, n := range st.Calls {
		if n != want[sip.CallOutcome(o)] {
			t.Errorf("calls %s = %d, want %d", sip.CallOutcome(o), n, want[sip.CallOutcome(o)])
		}
	}
	// sipp streams 2 s (100 packets) per call and the echo sends back
	// all the while.
	if st.RTPPacketsIn < 100 || st.RTPPacketsOut < 100 {
		t.Errorf("RTP in %d, out %d: want at least 100 each", st.RTPPacketsIn, st.RTPPacketsOut)
	}
	if st.AgentErrors != 1 || st.ActiveCalls != 0 {
		t.Errorf("agent errors %d, active calls %d; want 1, 0", st.AgentErrors, st.ActiveCalls)
	}
}

// A caller hung up while ringing counts as cancelled.
func TestStatsCountCancelled(t *testing.T) {
	t.Parallel()
	srv := startServer(t, map[string]agent.Agent{"ring": newRecorder()}, withRingTime(5*time.Second))
	if out, err := runSipp(t, srv, sippRun{Scenario: "uac_cancel.xml", User: "ring"}); err != nil {
		t.Fatalf("sipp: %v\n%s", err, out)
	}
	waitIdle(t, srv)
	if st := srv.Stats(); st.Calls[sip.OutcomeCancelled] != 1 || st.Calls[sip.OutcomeCompleted] != 0 {
		t.Errorf("calls %v, want 1 cancelled only", st.Calls)
	}
}

// The server stops being ready as soon as it drains, while its calls
// still run; the call Shutdown ends counts as shutdown.
func TestStatsReadyAndShutdown(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	srv := startServer(t, map[string]agent.Agent{"rec": rec})
	sipp := sippAsync(t, srv, sippRun{Scenario: "robust_silent_wait_bye.xml", User: "rec"})
	rec.waitStarted(t)
	if !srv.Ready() {
		t.Fatal("not ready with a call up")
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	shutdown := make(chan error, 1)
	go func() { shutdown <- srv.Shutdown(ctx) }()
	if !eventually(time.Second, func() bool { return !srv.Ready() }) {
		t.Error("still ready while draining")
	}
	if n := srv.Stats().ActiveCalls; n != 1 {
		t.Errorf("%d active calls while draining, want the one call", n)
	}
	select {
	case err := <-shutdown:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Shutdown did not return")
	}
	if r := <-sipp; r.err != nil {
		t.Errorf("sipp: %v\n%s", r.err, r.out)
	}
	if st := srv.Stats(); st.Calls[sip.OutcomeShutdown] != 1 || st.ActiveCalls != 0 {
		t.Errorf("calls %v, active %d; want 1 shutdown, 0 active", st.Calls, st.ActiveCalls)
	}
}

// RTP is counted while a call runs, not only when it ends, and the call's
// packets are counted once: the mid-call counts and the final one add up
// to what sipp sent.
func TestStatsCountRTPLive(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	srv := startServer(t, map[string]agent.Agent{"rec": rec})
	dir := t.TempDir()
	writeUlawWAV(t, filepath.Join(dir, "audio.wav"), testSignal())
	sipp := sippAsync(t, srv, sippRun{Scenario: "uac_stream.xml", User: "rec", Dir: dir})
	rec.waitStarted(t)
	var mid uint64
	if !eventually(5*time.Second, func() bool {
		st := srv.Stats()
		mid = st.RTPPacketsIn
		return st.ActiveCalls == 1 && mid >= 10
	}) {
		t.Fatalf("RTP in while the call runs: %d packets, want 10 or more", mid)
	}
	if r := <-sipp; r.err != nil {
		t.Fatalf("sipp: %v\n%s", r.err, r.out)
	}
	waitIdle(t, srv)
	final := srv.Stats().RTPPacketsIn
	t.Logf("RTP in: %d mid-call, %d at the end", mid, final)
	// sipp streams 2 s: 100 packets. Counting the mid-call packets twice
	// would make it 110 or more.
	if final < mid || final < 95 || final > 105 {
		t.Errorf("RTP in at the end %d (mid-call %d), want about 100, each packet once", final, mid)
	}
}
