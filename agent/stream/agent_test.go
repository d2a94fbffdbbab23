package stream

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/agenttest"
)

func TestNewNamesBadField(t *testing.T) {
	for _, tt := range []struct {
		cfg   Config
		field string
	}{
		{Config{}, "Config.URL"},
		{Config{URL: "http://agent.example.com/"}, "Config.URL"},
		{Config{URL: "wss:///path"}, "Config.URL"},
		{Config{URL: "ws://a b/"}, "Config.URL"},
		{Config{URL: "ws://a", Parameters: map[string]string{"": "x"}}, "Config.Parameters"},
		{Config{URL: "ws://a", AccountSid: "AC123"}, "Config.AccountSid"},
		{Config{URL: "ws://a", AccountSid: "CA00000000000000000000000000000000"}, "Config.AccountSid"},
		{Config{URL: "ws://a", Headers: map[string]string{"Bad Name": "x"}}, "Config.Headers"},
		{Config{URL: "ws://a", Headers: map[string]string{"X-A": "a\r\nb"}}, "Config.Headers"},
		{Config{URL: "ws://a", Headers: map[string]string{"upgrade": "h2c"}}, "Config.Headers"},
		{Config{URL: "ws://a", DialTimeout: -time.Second}, "Config.DialTimeout"},
	} {
		_, err := New(tt.cfg)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != tt.field || !strings.HasPrefix(err.Error(), "stream: "+tt.field+" ") {
			t.Errorf("New(%+v) = %v, want an error naming %s", tt.cfg, err, tt.field)
		}
	}
	if _, err := New(Config{URL: "wss://agent.example.com/media", AccountSid: "AC0123456789abcdef0123456789ABCDEF",
		Headers: map[string]string{"Authorization": "Bearer x"}, Parameters: map[string]string{"a": ""}}); err != nil {
		t.Errorf("New with a good config: %v", err)
	}
	if _, err := Run(context.Background(), agenttest.New(), Options{URL: "ws://a", CallSid: "CAxyz"}); err == nil ||
		!strings.HasPrefix(err.Error(), "stream: Options.CallSid ") {
		t.Errorf("Run with a bad CallSid = %v", err)
	}
}

// fallback is an agent that plays one marker sample and returns.
var fallback = agent.AgentFunc(func(ctx context.Context, call agent.Call) error {
	return call.WriteAudio(ctx, []int16{4242})
})

func TestAgentFallsBack(t *testing.T) {
	t.Run("dial fails", func(t *testing.T) {
		ctx := testContext(t)
		const dialTimeout = 3 * time.Second
		a, err := New(Config{URL: "ws://" + closedAddr(t), Fallback: fallback, DialTimeout: dialTimeout})
		if err != nil {
			t.Fatal(err)
		}
		call := agenttest.New()
		began := time.Now()
		if err := agenttest.Result(ctx, agenttest.Start(ctx, a, call)); err != nil {
			t.Errorf("Serve = %v, want the fallback's nil", err)
		}
		if took := time.Since(began); took >= dialTimeout {
			t.Errorf("refused dial took %v to fall back", took)
		}
		if r := call.Snapshot(); len(r.Played) != 1 || r.Played[0] != 4242 || r.Answers != 1 {
			t.Errorf("call = %s, want answered and the fallback's sample", &r)
		}
	})
	t.Run("agent closes", func(t *testing.T) {
		ctx := testContext(t)
		srv := newServer(t)
		a, err := New(Config{URL: srv.url, Fallback: fallback})
		if err != nil {
			t.Fatal(err)
		}
		call := agenttest.New()
		done := agenttest.Start(ctx, a, call)
		p := srv.accept(ctx, t)
		p.handshake(ctx, t)
		goodbye := mulawSignal(400, 0)
		p.sendMedia(ctx, t, goodbye)
		_ = p.conn.Close(websocket.StatusNormalClosure, "")
		if err := agenttest.Result(ctx, done); err != nil {
			t.Errorf("Serve = %v", err)
		}
		want := append(pcmOf(goodbye), 4242) // the goodbye whole, then the fallback
		if got := call.Snapshot().Played; !equalSamples(got, want) {
			t.Errorf("played %d samples, want the agent's 400 then the fallback's", len(got))
		}
	})
}

func TestAgentWithoutFallback(t *testing.T) {
	ctx := testContext(t)
	a, err := New(Config{URL: "ws://" + closedAddr(t)})
	if err != nil {
		t.Fatal(err)
	}
	call := agenttest.New()
	if err := agenttest.Result(ctx, agenttest.Start(ctx, a, call)); !errors.Is(err, ErrDial) {
		t.Errorf("Serve = %v, want ErrDial", err)
	}
	if !call.Snapshot().Ended {
		t.Error("call not ended")
	}

	srv := newServer(t)
	if a, err = New(Config{URL: srv.url}); err != nil {
		t.Fatal(err)
	}
	call = agenttest.New()
	done := agenttest.Start(ctx, a, call)
	p := srv.accept(ctx, t)
	p.handshake(ctx, t)
	_ = p.conn.Close(websocket.StatusNormalClosure, "")
	if err := agenttest.Result(ctx, done); err != nil {
		t.Errorf("Serve after a normal close = %v, want nil", err)
	}
}

func TestAgentHangup(t *testing.T) {
	ctx := testContext(t)
	srv := newServer(t)
	ran := false
	a, err := New(Config{URL: srv.url, Fallback: agent.AgentFunc(func(context.Context, agent.Call) error {
		ran = true
		return nil
	})})
	if err != nil {
		t.Fatal(err)
	}
	call := agenttest.New()
	done := agenttest.Start(ctx, a, call)
	p := srv.accept(ctx, t)
	p.handshake(ctx, t)
	p.hangup(ctx, t, call)
	if err := agenttest.Result(ctx, done); err != nil || ran {
		t.Errorf("Serve after hang-up = %v, fallback ran %t", err, ran)
	}
}

func equalSamples(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
