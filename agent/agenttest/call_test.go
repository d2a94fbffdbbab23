package agenttest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
)

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestAudioIn(t *testing.T) {
	ctx := testContext(t)
	c := New()
	sent := make(chan error, 1)
	go func() { sent <- c.SendAudio(ctx, []int16{1, 2, 3}) }()
	frame := make([]int16, agent.FrameSamples)
	n, err := c.ReadAudio(ctx, frame)
	if err != nil || n != 3 || !slices.Equal(frame[:n], []int16{1, 2, 3}) {
		t.Fatalf("ReadAudio = %v, %d, %v", frame[:n], n, err)
	}
	if err := <-sent; err != nil {
		t.Fatalf("SendAudio: %v", err)
	}
	if _, err := c.ReadAudio(ctx, make([]int16, 10)); err == nil {
		t.Error("ReadAudio into a short buffer succeeded")
	}
}

func TestAudioOut(t *testing.T) {
	ctx := testContext(t)
	c := New()
	if err := c.WriteAudio(ctx, []int16{1, 2}); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteAudio(ctx, []int16{3}); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitPlayed(ctx); err != nil {
		t.Fatalf("WaitPlayed: %v", err)
	}
	got, err := c.AwaitPlayed(ctx, 3)
	if err != nil || !slices.Equal(got, []int16{1, 2, 3}) {
		t.Fatalf("AwaitPlayed = %v, %v", got, err)
	}
}

func TestManualPlayout(t *testing.T) {
	ctx := testContext(t)
	c := New(WithManualPlayout())
	for _, finish := range []func(){c.FinishPlayout, c.ClearAudio} {
		if err := c.WriteAudio(ctx, make([]int16, 160)); err != nil {
			t.Fatal(err)
		}
		waited := make(chan error, 1)
		go func() { waited <- c.WaitPlayed(ctx) }()
		if err := c.Await(ctx, func(r *Record) bool { return r.Queued == 160 }); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-waited:
			t.Fatalf("WaitPlayed returned %v with audio queued", err)
		default:
		}
		finish()
		if err := <-waited; err != nil {
			t.Fatalf("WaitPlayed: %v", err)
		}
	}
	if r := c.Snapshot(); r.Clears != 1 || len(r.Played) != 320 {
		t.Errorf("record = %s, want 1 clear and 320 samples", &r)
	}
}

func TestDTMF(t *testing.T) {
	ctx := testContext(t)
	c := New()
	if err := c.Press(ctx, "1#"); err != nil {
		t.Fatal(err)
	}
	for _, want := range "1#" {
		if got := <-c.DTMF(); got != want {
			t.Errorf("DTMF = %q, want %q", got, want)
		}
	}
	if err := c.Press(ctx, "x"); err == nil {
		t.Error("Press(x) succeeded")
	}
}

func TestTransfer(t *testing.T) {
	ctx := testContext(t)
	req := agent.TransferRequest{Target: "sip:a@example.com", Mode: "refer"}
	if _, err := New().Transfer(ctx, req); !errors.Is(err, agent.ErrTransferUnsupported) {
		t.Errorf("default Transfer error = %v, want ErrTransferUnsupported", err)
	}
	c := New(WithTransfer(func(_ context.Context, got agent.TransferRequest) (agent.TransferResult, error) {
		if got != req {
			t.Errorf("TransferFunc got %+v, want %+v", got, req)
		}
		return agent.TransferResult{Status: "completed", SIPCode: 202}, nil
	}))
	res, err := c.Transfer(ctx, req)
	if err != nil || res.Status != "completed" {
		t.Errorf("Transfer = %+v, %v", res, err)
	}
	if r := c.Snapshot(); len(r.Transfers) != 1 || r.Transfers[0] != req {
		t.Errorf("recorded transfers = %+v", r.Transfers)
	}
}

func TestHangup(t *testing.T) {
	ctx := testContext(t)
	c := New(WithInfo(agent.Info{CallID: "abc"}))
	if c.Info().CallID != "abc" {
		t.Errorf("Info().CallID = %q", c.Info().CallID)
	}
	// Fill the DTMF buffer so a Press blocks, then hang up under it.
	for range cap(c.dtmf) {
		if err := c.Press(ctx, "5"); err != nil {
			t.Fatal(err)
		}
	}
	pressed := make(chan error, 1)
	go func() { pressed <- c.Press(ctx, "6") }()
	c.Hangup()
	c.Hangup()
	if err := <-pressed; !errors.Is(err, agent.ErrHangup) {
		t.Errorf("blocked Press after hangup = %v, want ErrHangup", err)
	}
	n := 0
	for range c.DTMF() {
		n++
	}
	if n != cap(c.dtmf) {
		t.Errorf("drained %d keys, want %d", n, cap(c.dtmf))
	}
	if _, err := c.ReadAudio(ctx, make([]int16, agent.FrameSamples)); !errors.Is(err, agent.ErrHangup) {
		t.Errorf("ReadAudio after hangup = %v", err)
	}
	if err := c.WriteAudio(ctx, []int16{1}); !errors.Is(err, agent.ErrHangup) {
		t.Errorf("WriteAudio after hangup = %v", err)
	}
	if err := c.SendAudio(ctx, []int16{1}); !errors.Is(err, agent.ErrHangup) {
		t.Errorf("SendAudio after hangup = %v", err)
	}
	if err := c.Press(ctx, "1"); !errors.Is(err, agent.ErrHangup) {
		t.Errorf("Press after hangup = %v", err)
	}
	if _, err := c.Transfer(ctx, agent.TransferRequest{}); !errors.Is(err, agent.ErrHangup) {
		t.Errorf("Transfer after hangup = %v", err)
	}
	if !c.Snapshot().Ended {
		t.Error("record not marked ended")
	}
}
