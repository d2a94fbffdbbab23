package flow

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/agenttest"
	"github.com/sipagent/sipagent/media/wav"
)

// demoPrompts loads the demo's WAV files as the flow plays them.
func demoPrompts(t *testing.T) map[string][]int16 {
	t.Helper()
	p := make(map[string][]int16)
	for _, name := range []string{"greeting", "menu", "invalid", "echo", "not_configured", "goodbye"} {
		pcm, err := wav.LoadFS(demoFiles, "demo/"+name+".wav")
		if err != nil {
			t.Fatal(err)
		}
		if len(pcm) < agent.SampleRate/2 {
			t.Fatalf("demo prompt %s is %d samples, want real speech", name, len(pcm))
		}
		p[name] = pcm
	}
	return p
}

// demoCall is the demo flow running on a scripted call.
type demoCall struct {
	*agenttest.Call
	clock   *fakeClock
	done    <-chan error
	prompts map[string][]int16
}

func startDemo(t *testing.T, ctx context.Context, opts ...Option) *demoCall {
	t.Helper()
	f, err := Demo()
	if err != nil {
		t.Fatalf("Demo: %v", err)
	}
	clock := newFakeClock()
	a, err := New(f, append([]Option{WithClock(clock)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	call := agenttest.New()
	return &demoCall{Call: call, clock: clock, done: agenttest.Start(ctx, a, call), prompts: demoPrompts(t)}
}

// expect waits until the call has played exactly the named prompts and
// audio parts, in order.
func (d *demoCall) expect(t *testing.T, ctx context.Context, parts ...any) {
	t.Helper()
	var want []int16
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			want = append(want, d.prompts[p]...)
		case []int16:
			want = append(want, p...)
		}
	}
	got, err := d.AwaitPlayed(ctx, len(want))
	if err != nil {
		t.Fatalf("waiting for %v: %v", parts, err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("played %d samples that are not %v", len(got), parts)
	}
}

// finish waits for Serve to return nil after the demo hangs up or the
// caller does.
func (d *demoCall) finish(t *testing.T, ctx context.Context) {
	t.Helper()
	if err := agenttest.Result(ctx, d.done); err != nil {
		t.Fatalf("Serve = %v, want nil", err)
	}
}

func TestDemoGreetingThenMenu(t *testing.T) {
	ctx := testContext(t)
	d := startDemo(t, ctx)
	d.expect(t, ctx, "greeting", "menu")
	d.Hangup()
	d.finish(t, ctx)
}

func TestDemoEcho(t *testing.T) {
	ctx := testContext(t)
	d := startDemo(t, ctx)
	d.expect(t, ctx, "greeting", "menu")
	if err := d.Press(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	d.expect(t, ctx, "greeting", "menu", "echo")

	// The echo lags by 200 ms, ten frames: feed 13 frames, hear ten
	// frames of silence and the first three.
	var sent, heard []int16
	for i := range 13 {
		f := tone(float64(300+50*i), agent.FrameSamples)
		sent = append(sent, f...)
		if err := d.SendAudio(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	heard = append(make([]int16, 10*agent.FrameSamples), sent[:3*agent.FrameSamples]...)
	d.expect(t, ctx, "greeting", "menu", "echo", heard)

	// Pound ends the echo and returns to the menu.
	if err := d.Press(ctx, "#"); err != nil {
		t.Fatal(err)
	}
	d.expect(t, ctx, "greeting", "menu", "echo", heard, "menu")
	d.Hangup()
	d.finish(t, ctx)
}

func TestDemoEchoTimesOut(t *testing.T) {
	ctx := testContext(t)
	d := startDemo(t, ctx)
	d.expect(t, ctx, "greeting", "menu")
	if err := d.Press(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	if err := d.clock.fire(ctx, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	d.expect(t, ctx, "greeting", "menu", "echo", "menu")
	d.Hangup()
	d.finish(t, ctx)
}

func TestDemoForwardNotConfigured(t *testing.T) {
	for _, tt := range []struct {
		name      string
		opts      []Option
		transfers []agent.TransferRequest
	}{
		{name: "no target"},
		{
			name:      "target but no transfer service",
			opts:      []Option{WithTransferTarget("sip:operator@example.com")},
			transfers: []agent.TransferRequest{{Target: "sip:operator@example.com"}},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			d := startDemo(t, ctx, tt.opts...)
			d.expect(t, ctx, "greeting", "menu")
			if err := d.Press(ctx, "2"); err != nil {
				t.Fatal(err)
			}
			d.expect(t, ctx, "greeting", "menu", "not_configured", "menu")
			if got := d.Snapshot().Transfers; !slices.Equal(got, tt.transfers) {
				t.Errorf("transfers = %+v, want %+v", got, tt.transfers)
			}
			d.Hangup()
			d.finish(t, ctx)
		})
	}
}

func TestDemoForwardCompleted(t *testing.T) {
	ctx := testContext(t)
	f, err := Demo()
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(f, WithClock(newFakeClock()), WithTransferTarget("sip:operator@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	call := agenttest.New(agenttest.WithTransfer(func(context.Context, agent.TransferRequest) (agent.TransferResult, error) {
		return agent.TransferResult{Status: "completed", SIPCode: 200}, nil
	}))
	done := agenttest.Start(ctx, a, call)
	prompts := demoPrompts(t)
	if _, err := call.AwaitPlayed(ctx, len(prompts["greeting"])+len(prompts["menu"])); err != nil {
		t.Fatal(err)
	}
	if err := call.Press(ctx, "2"); err != nil {
		t.Fatal(err)
	}
	// A completed transfer hangs up without another word.
	if err := agenttest.Result(ctx, done); err != nil {
		t.Fatalf("Serve = %v", err)
	}
	if r := call.Snapshot(); len(r.Played) != len(prompts["greeting"])+len(prompts["menu"]) || len(r.Transfers) != 1 {
		t.Errorf("after transfer: %s", &r)
	}
}

func TestDemoGoodbye(t *testing.T) {
	ctx := testContext(t)
	d := startDemo(t, ctx)
	d.expect(t, ctx, "greeting", "menu")
	if err := d.Press(ctx, "3"); err != nil {
		t.Fatal(err)
	}
	d.finish(t, ctx) // the demo hangs up
	d.expect(t, ctx, "greeting", "menu", "goodbye")
	if !d.Snapshot().Ended {
		t.Error("call not ended")
	}
}

func TestDemoInvalidKey(t *testing.T) {
	ctx := testContext(t)
	d := startDemo(t, ctx)
	d.expect(t, ctx, "greeting", "menu")
	if err := d.Press(ctx, "9"); err != nil {
		t.Fatal(err)
	}
	d.expect(t, ctx, "greeting", "menu", "invalid", "menu")
	d.Hangup()
	d.finish(t, ctx)
}

func TestDemoNoInput(t *testing.T) {
	ctx := testContext(t)
	d := startDemo(t, ctx)
	d.expect(t, ctx, "greeting", "menu")
	for range 3 {
		if err := d.clock.fire(ctx, 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	d.finish(t, ctx)
	d.expect(t, ctx, "greeting", "menu", "menu", "menu", "goodbye")
}
