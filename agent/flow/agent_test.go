package flow

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/agenttest"
)

func TestValidTarget(t *testing.T) {
	for uri, want := range map[string]bool{
		"sip:sales@example.com":                 true,
		"SIPS:sales@example.com;transport=tls":  true,
		"tel:+15550100":                         true,
		"sip:a@b?X-Reason=demo":                 true,
		"sip:":                                  false,
		"http://example.com":                    false,
		"sales@example.com":                     false,
		"sip:sales@example.com\r\nVia: spoofed": false,
		"sip:a b@example.com":                   false,
		"":                                      false,
	} {
		if got := validTarget(uri); got != want {
			t.Errorf("validTarget(%q) = %t, want %t", uri, got, want)
		}
	}
}

func TestNewChecks(t *testing.T) {
	f, err := Parse([]byte(steps("a: {play: a.wav, next: b}", "b: {gather: {say: Hi}, next: c}", "c: {hangup: true}")), testFS(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(f); !errors.Is(err, ErrNoSynthesizer) || !strings.Contains(err.Error(), `step "b"`) {
		t.Errorf("New without synthesizer = %v, want ErrNoSynthesizer naming step b", err)
	}
	if _, err := New(f, WithSynthesizer(&fakeSynth{}), WithTransferTarget("operator")); err == nil {
		t.Error("New accepted transfer target \"operator\"")
	}
	if _, err := New(f, WithSynthesizer(&fakeSynth{}), WithTransferTarget("SIP:op@example.com")); err != nil {
		t.Errorf("New with a SIP target: %v", err)
	}
}

func TestServeEndsLoops(t *testing.T) {
	ctx := testContext(t)
	call, _, done := run(t, ctx, steps("a: {transfer: {}, on_failure: a, next: b}", "b: {hangup: true}"), nil,
		WithTransferTarget("sip:op@example.com"))
	err := agenttest.Result(ctx, done)
	if !errors.Is(err, ErrNoProgress) || !strings.Contains(err.Error(), `step "a"`) {
		t.Fatalf("Serve = %v, want ErrNoProgress naming step a", err)
	}
	if n := len(call.Snapshot().Transfers); n != maxIdleSteps {
		t.Errorf("%d transfers before giving up, want %d", n, maxIdleSteps)
	}
}

func TestServeCancelled(t *testing.T) {
	ctx := testContext(t)
	f, err := Parse([]byte(steps("a: {play: a.wav, next: b}", "b: {hangup: true}")), testFS(t))
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(f)
	if err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	call := agenttest.New()
	if err := a.Serve(cancelled, call); err != nil {
		t.Errorf("Serve on a cancelled context = %v, want nil", err)
	}
	if n := len(call.Snapshot().Played); n != 0 {
		t.Errorf("played %d samples after the caller left", n)
	}
}

func TestStepLogging(t *testing.T) {
	ctx := testContext(t)
	var logged strings.Builder
	logger := slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
	call, _, done := run(t, ctx, steps("a: {play: a.wav, next: b}", "b: {hangup: true}"), []agenttest.Option{
		agenttest.WithInfo(agent.Info{CallID: "call-1"}),
	}, WithLogger(logger))
	played(t, ctx, call, done, promptA) // Serve has returned: no more logging
	for _, want := range []string{"step=a", "step=b", "call_id=call-1"} {
		if !strings.Contains(logged.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logged.String())
		}
	}
}
