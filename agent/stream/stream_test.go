package stream

import (
	"context"
	"encoding/base64"
	"errors"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/agenttest"
)

// TestStreamToAgent checks everything the agent receives: the handshake
// headers, connected and start, the caller's audio, key presses, and stop
// when the call ends.
func TestStreamToAgent(t *testing.T) {
	ctx := testContext(t)
	srv := newServer(t)
	call := agenttest.New(agenttest.WithInfo(agent.Info{CallID: "a84b4c76e66710@pc33.example.com"}))
	params := map[string]string{"caller": "+15550100", "quote": `say "hi"`}
	done := startRun(ctx, call, Options{
		URL:        srv.url + "/media?token=secret",
		Parameters: params,
		Headers:    map[string]string{"Authorization": "Bearer abc"},
	})
	p := srv.accept(ctx, t)
	if got := p.header.Get("Authorization"); got != "Bearer abc" {
		t.Errorf("Authorization header = %q", got)
	}

	connected := p.expect(ctx, t, "connected")
	if connected.Protocol != "Call" || connected.Version != "1.0.0" || connected.SequenceNumber != "" {
		t.Errorf("connected = %+v", connected)
	}
	start := p.expect(ctx, t, "start")
	sid := start.StreamSid
	wantCallSid := CallSid("a84b4c76e66710@pc33.example.com")
	switch st := start.Start; {
	case start.SequenceNumber != "1":
		t.Errorf("start sequenceNumber = %q, want 1", start.SequenceNumber)
	case !validSid("MZ", sid) || st.StreamSid != sid:
		t.Errorf("streamSid %q, start.streamSid %q", sid, st.StreamSid)
	case st.CallSid != wantCallSid || st.AccountSid != DefaultAccountSid:
		t.Errorf("callSid %q accountSid %q, want %q %q", st.CallSid, st.AccountSid, wantCallSid, DefaultAccountSid)
	case !slices.Equal(st.Tracks, []string{"inbound"}):
		t.Errorf("tracks = %q", st.Tracks)
	case st.MediaFormat.Encoding != "audio/x-mulaw" || st.MediaFormat.SampleRate != 8000 || st.MediaFormat.Channels != 1:
		t.Errorf("mediaFormat = %+v", st.MediaFormat)
	case !maps.Equal(st.CustomParameters, params):
		t.Errorf("customParameters = %q, want %q", st.CustomParameters, params)
	}
	if call.Snapshot().Answers != 1 {
		t.Error("call not answered before streaming")
	}

	// The caller's audio arrives frame by frame, numbered and timed.
	const frames = 10
	for i := range frames {
		sent := pcmOf(mulawSignal(agent.FrameSamples, i))
		if err := call.SendAudio(ctx, sent); err != nil {
			t.Fatal(err)
		}
		m := p.expect(ctx, t, "media")
		if m.StreamSid != sid || m.SequenceNumber != strconv.Itoa(i+2) || m.Media.Chunk != strconv.Itoa(i+1) ||
			m.Media.Timestamp != strconv.Itoa(20*i) || m.Media.Track != "inbound" {
			t.Errorf("media %d: %+v %+v", i, m, m.Media)
		}
		payload, err := base64.StdEncoding.DecodeString(m.Media.Payload)
		if err != nil {
			t.Fatalf("media %d payload: %v", i, err)
		}
		if got := pcmOf(payload); !slices.Equal(got, sent) {
			t.Errorf("media %d carries other audio than the caller's", i)
		}
	}

	if err := call.Press(ctx, "5#"); err != nil {
		t.Fatal(err)
	}
	for i, digit := range []string{"5", "#"} {
		m := p.expect(ctx, t, "dtmf")
		if m.DTMF.Digit != digit || m.DTMF.Track != "inbound_track" || m.StreamSid != sid ||
			m.SequenceNumber != strconv.Itoa(frames+2+i) {
			t.Errorf("dtmf %d: %+v %+v", i, m, m.DTMF)
		}
	}

	call.Hangup()
	stop := p.expect(ctx, t, "stop")
	if stop.Stop.CallSid != wantCallSid || stop.Stop.AccountSid != DefaultAccountSid || stop.SequenceNumber != strconv.Itoa(frames+4) {
		t.Errorf("stop: %+v %+v", stop, stop.Stop)
	}
	if code := p.expectClose(ctx, t); code != websocket.StatusNormalClosure {
		t.Errorf("socket closed with %v, want normal closure", code)
	}
	r := result(ctx, t, done)
	if r.err != nil || r.res.End != EndHangup || r.res.StreamSid != sid || r.res.CallSid != wantCallSid {
		t.Errorf("Run = %+v, %v", r.res, r.err)
	}
	if st := r.res.Stats; st.MediaSent != frames || st.DTMFSent != 2 || st.MediaDropped != 0 {
		t.Errorf("stats = %+v", st)
	}
}

// TestStreamPlaysAgentAudio checks that media of any size, odd and empty
// included, is played whole and in order.
func TestStreamPlaysAgentAudio(t *testing.T) {
	ctx := testContext(t)
	call := agenttest.New()
	p, done := streamTo(ctx, t, call)

	var want []int16
	for i, n := range []int{1, 7, 0, 160, 161, 333, 2, 4001} {
		mulaw := mulawSignal(n, i)
		p.sendMedia(ctx, t, mulaw)
		want = append(want, pcmOf(mulaw)...)
	}
	got, err := call.AwaitPlayed(ctx, len(want))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("played %d samples, not the %d the agent sent", len(got), len(want))
	}
	p.hangup(ctx, t, call)
	r := result(ctx, t, done)
	if r.res.End != EndHangup || r.res.Stats.MediaReceived != 8 {
		t.Errorf("Run = %+v, %v", r.res, r.err)
	}
}

// TestStreamMarkAfterPlayout checks that a mark comes back only once the
// audio before it has been played.
func TestStreamMarkAfterPlayout(t *testing.T) {
	ctx := testContext(t)
	call := agenttest.New(agenttest.WithManualPlayout())
	p, done := streamTo(ctx, t, call)

	p.sendMedia(ctx, t, mulawSignal(800, 0))
	p.sendMark(ctx, t, "greeting")
	if _, err := call.AwaitPlayed(ctx, 800); err != nil {
		t.Fatal(err)
	}
	// The audio is written but not played. A key press now goes out
	// behind anything already queued for the agent, so a mark sent
	// early would arrive first.
	if err := call.Press(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	p.expect(ctx, t, "dtmf")
	call.FinishPlayout()
	if m := p.expect(ctx, t, "mark"); m.Mark.Name != "greeting" {
		t.Errorf("mark %q, want greeting", m.Mark.Name)
	}
	p.hangup(ctx, t, call)
	if r := result(ctx, t, done); r.res.Stats.MarksSent != 1 {
		t.Errorf("stats = %+v", r.res.Stats)
	}
}

// TestStreamClear checks barge-in: a clear drops the audio queued in the
// call and in sipagent, returns the pending marks, and later audio plays.
func TestStreamClear(t *testing.T) {
	ctx := testContext(t)
	call := agenttest.New(agenttest.WithManualPlayout())
	p, done := streamTo(ctx, t, call)

	a, b, c := mulawSignal(1600, 1), mulawSignal(800, 2), mulawSignal(400, 3)
	p.sendMedia(ctx, t, a)
	p.sendMark(ctx, t, "a")
	p.sendMedia(ctx, t, b) // waits in sipagent behind mark a
	p.sendMark(ctx, t, "b")
	if _, err := call.AwaitPlayed(ctx, len(a)); err != nil {
		t.Fatal(err)
	}
	p.sendRaw(ctx, t, `{"event":"clear","streamSid":"MZx"}`)
	for _, name := range []string{"a", "b"} {
		if m := p.expect(ctx, t, "mark"); m.Mark.Name != name {
			t.Errorf("mark %q returned, want %q", m.Mark.Name, name)
		}
	}
	if r := call.Snapshot(); r.Clears < 1 || r.Queued != 0 {
		t.Errorf("after clear: %s", &r)
	}

	p.sendMedia(ctx, t, c)
	p.sendMark(ctx, t, "c")
	if _, err := call.AwaitPlayed(ctx, len(a)+len(c)); err != nil {
		t.Fatal(err)
	}
	call.FinishPlayout()
	if m := p.expect(ctx, t, "mark"); m.Mark.Name != "c" {
		t.Errorf("mark %q, want c", m.Mark.Name)
	}
	if got, want := call.Snapshot().Played, append(pcmOf(a), pcmOf(c)...); !slices.Equal(got, want) {
		t.Errorf("played %d samples, want %d: the cleared audio must never play", len(got), len(want))
	}
	p.hangup(ctx, t, call)
	if r := result(ctx, t, done); r.res.Stats.Clears != 1 || r.res.Stats.MarksSent != 3 {
		t.Errorf("stats = %+v", r.res.Stats)
	}
}

// TestStreamClearInterruptsWrite checks that a clear releases a
// WriteAudio blocked on a full playout queue, and that the audio queued
// behind it is dropped.
func TestStreamClearInterruptsWrite(t *testing.T) {
	ctx := testContext(t)
	srv := newServer(t)
	call := newStuckCall()
	done := startRun(ctx, call, Options{URL: srv.url})
	p := srv.accept(ctx, t)
	p.handshake(ctx, t)

	a, b, c := mulawSignal(300, 1), mulawSignal(200, 2), mulawSignal(100, 3)
	p.sendMedia(ctx, t, a)
	call.awaitWrite(ctx, t, len(a)) // blocked: the call's queue is full
	p.sendMark(ctx, t, "a")
	p.sendMedia(ctx, t, b)
	p.sendRaw(ctx, t, `{"event":"clear","streamSid":"MZx"}`)
	if m := p.expect(ctx, t, "mark"); m.Mark.Name != "a" {
		t.Errorf("mark %q, want a", m.Mark.Name)
	}
	p.sendMedia(ctx, t, c)
	call.awaitWrite(ctx, t, len(c)) // the next write is c: b was dropped
	if got, want := call.Snapshot().Played, pcmOf(c); !slices.Equal(got, want) {
		t.Errorf("played %d samples, want only c's %d", len(got), len(want))
	}
	p.hangup(ctx, t, call)
	if r := result(ctx, t, done); r.res.End != EndHangup {
		t.Errorf("Run = %+v, %v", r.res, r.err)
	}
}

// TestStreamBadMessages checks that messages the agent gets wrong are
// counted and skipped, and the stream goes on.
func TestStreamBadMessages(t *testing.T) {
	ctx := testContext(t)
	call := agenttest.New()
	p, done := streamTo(ctx, t, call)

	for _, msg := range []string{
		`not json`,
		`{"event":"media","media":{"payload":"!!!!"}}`,
		`{"event":"media"}`,
		`{"streamSid":"MZx"}`,
		`{"event":"media","media":{"payload":5}}`,
		`{"event":"start","start":{}}`,
		`{"event":"stop"}`,
	} {
		p.sendRaw(ctx, t, msg)
	}
	good := mulawSignal(160, 0)
	p.sendMedia(ctx, t, good)
	p.sendMark(ctx, t, "still here")
	if m := p.expect(ctx, t, "mark"); m.Mark.Name != "still here" {
		t.Errorf("mark %q", m.Mark.Name)
	}
	if got := call.Snapshot().Played; !slices.Equal(got, pcmOf(good)) {
		t.Errorf("played %d samples, want the 160 of the good message", len(got))
	}
	p.hangup(ctx, t, call)
	r := result(ctx, t, done)
	if st := r.res.Stats; st.BadMessages != 5 || st.UnknownEvents != 2 || st.MediaReceived != 1 {
		t.Errorf("stats = %+v, want 5 bad, 2 unknown, 1 media", st)
	}
}

// TestStreamEnds checks how Run reports each way a stream can end.
func TestStreamEnds(t *testing.T) {
	for _, tt := range []struct {
		name    string
		end     func(context.Context, *peer)
		want    End
		wantErr error
	}{
		{"normal close", func(_ context.Context, p *peer) { _ = p.conn.Close(websocket.StatusNormalClosure, "done") }, EndAgentClosed, nil},
		{"going away", func(_ context.Context, p *peer) { _ = p.conn.Close(websocket.StatusGoingAway, "") }, EndAgentClosed, nil},
		{"error close", func(_ context.Context, p *peer) { _ = p.conn.Close(websocket.StatusInternalError, "crash") }, EndSocketFailed, ErrSocket},
		{"dropped", func(_ context.Context, p *peer) { _ = p.conn.CloseNow() }, EndSocketFailed, ErrSocket},
		{"message too big", func(ctx context.Context, p *peer) {
			// The client refuses it and closes; the write may fail.
			_ = p.conn.Write(ctx, websocket.MessageText, make([]byte, maxMessage+1))
		}, EndSocketFailed, ErrSocket},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			call := agenttest.New()
			p, done := streamTo(ctx, t, call)
			tt.end(ctx, p)
			r := result(ctx, t, done)
			if r.res.End != tt.want || !errors.Is(r.err, tt.wantErr) || (tt.wantErr == nil) != (r.err == nil) {
				t.Errorf("Run = %v, %v; want %v, %v", r.res.End, r.err, tt.want, tt.wantErr)
			}
			if call.Snapshot().Ended {
				t.Error("Run ended the call; that is for its caller to decide")
			}
		})
	}
}

// TestStreamPlaysOutBeforeClose checks that audio sent just before a
// normal close is played before Run returns.
func TestStreamPlaysOutBeforeClose(t *testing.T) {
	ctx := testContext(t)
	call := agenttest.New()
	p, done := streamTo(ctx, t, call)
	goodbye := mulawSignal(8000, 0)
	p.sendMedia(ctx, t, goodbye)
	_ = p.conn.Close(websocket.StatusNormalClosure, "")
	r := result(ctx, t, done)
	if r.res.End != EndAgentClosed {
		t.Errorf("Run = %v, %v", r.res.End, r.err)
	}
	if got := call.Snapshot().Played; !slices.Equal(got, pcmOf(goodbye)) {
		t.Errorf("played %d of the %d samples sent before the close", len(got), len(goodbye))
	}
}

// TestStreamDialFails checks that a stream that cannot be opened ends
// at once with EndDialFailed, the call answered and still up.
func TestStreamDialFails(t *testing.T) {
	forbidden := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no streams here", http.StatusForbidden)
	}))
	t.Cleanup(forbidden.Close)
	isConfigError := func(err error) bool {
		var ce *ConfigError
		return errors.As(err, &ce)
	}
	isDialError := func(err error) bool { return errors.Is(err, ErrDial) }
	for _, tt := range []struct {
		name  string
		url   string
		check func(error) bool
	}{
		{"nothing listening", "ws://" + closedAddr(t), isDialError},
		{"handshake refused", "ws" + strings.TrimPrefix(forbidden.URL, "http"), isDialError},
		{"not ws", "http://example.com/", isConfigError},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			call := agenttest.New()
			res, err := Run(ctx, call, Options{URL: tt.url})
			if res.End != EndDialFailed || !tt.check(err) {
				t.Errorf("Run = %v, %v", res.End, err)
			}
			if r := call.Snapshot(); r.Ended {
				t.Errorf("call = %s, want it up", &r)
			}
		})
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// TestStreamSlowAgent checks that an agent that reads nothing never holds
// up the caller's audio: frames past the send queue are dropped and
// counted.
func TestStreamSlowAgent(t *testing.T) {
	ctx := testContext(t)
	srv := newServer(t, smallBuffers)
	call := agenttest.New()
	done := startRun(ctx, call, Options{URL: srv.url, HTTPClient: smallBufferClient()})
	p := srv.accept(ctx, t)
	// The peer reads nothing. Every frame must still be taken from the
	// call at once: SendAudio returns only when the agent has read it.
	const frames = 3000 // a minute of audio, far more than the buffers hold
	frame := pcmOf(mulawSignal(agent.FrameSamples, 0))
	for range frames {
		if err := call.SendAudio(ctx, frame); err != nil {
			t.Fatalf("caller audio held up: %v", err)
		}
	}
	_ = p.conn.CloseNow()
	r := result(ctx, t, done)
	st := r.res.Stats
	if r.res.End != EndSocketFailed || st.MediaDropped == 0 || st.MediaSent+st.MediaDropped > frames {
		t.Errorf("Run = %v, %v; stats %+v", r.res.End, r.err, st)
	}
	t.Logf("%d frames sent, %d dropped", st.MediaSent, st.MediaDropped)
}

// smallBufferClient returns an HTTP client whose connections have small
// socket buffers.
func smallBufferClient() *http.Client {
	d := &net.Dialer{}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(4096)
			_ = tc.SetWriteBuffer(4096)
		}
		return c, err
	}}
	return &http.Client{Transport: tr}
}

// TestStreamAgentFloods checks that audio more than MaxQueuedAudio ahead
// of playout is dropped, not stored.
func TestStreamAgentFloods(t *testing.T) {
	ctx := testContext(t)
	srv := newServer(t)
	call := newStuckCall()
	done := startRun(ctx, call, Options{URL: srv.url})
	p := srv.accept(ctx, t)
	p.handshake(ctx, t)

	const n = 8 * agent.SampleRate // 8 s per message
	p.sendMedia(ctx, t, mulawSignal(n, 0))
	call.awaitWrite(ctx, t, n) // taken by the writer, which is stuck
	for i := range 9 {
		p.sendMedia(ctx, t, mulawSignal(n, i+1))
	}
	// Seven messages (56 s) fit behind the stuck one; two do not. A
	// clear returns the mark, which shows everything before was read.
	p.sendMark(ctx, t, "end")
	p.sendRaw(ctx, t, `{"event":"clear"}`)
	p.expect(ctx, t, "mark")
	p.hangup(ctx, t, call)
	r := result(ctx, t, done)
	if st := r.res.Stats; st.SamplesDropped != 2*n || st.MediaReceived != 10 {
		t.Errorf("stats = %+v, want %d samples dropped", st, 2*n)
	}
}

// TestStreamContextCancelled checks that cancelling Run's context ends
// the stream as a hang-up does: stop, then a normal close.
func TestStreamContextCancelled(t *testing.T) {
	ctx := testContext(t)
	srv := newServer(t)
	call := agenttest.New()
	runCtx, cancel := context.WithCancel(ctx)
	done := startRun(runCtx, call, Options{URL: srv.url})
	p := srv.accept(ctx, t)
	p.handshake(ctx, t)
	cancel()
	p.expect(ctx, t, "stop")
	if code := p.expectClose(ctx, t); code != websocket.StatusNormalClosure {
		t.Errorf("closed with %v", code)
	}
	if r := result(ctx, t, done); r.res.End != EndHangup || r.err != nil {
		t.Errorf("Run = %v, %v", r.res.End, r.err)
	}
}

// TestStreamHangupUnresponsiveAgent checks that a hang-up ends the stream
// even when the agent reads nothing, so stop and the close cannot be
// written: Run gives up after closeGrace.
func TestStreamHangupUnresponsiveAgent(t *testing.T) {
	ctx := testContext(t)
	srv := newServer(t, smallBuffers)
	call := agenttest.New()
	done := startRun(ctx, call, Options{URL: srv.url, HTTPClient: smallBufferClient()})
	srv.accept(ctx, t) // and never read
	frame := pcmOf(mulawSignal(agent.FrameSamples, 0))
	for range 1000 {
		if err := call.SendAudio(ctx, frame); err != nil {
			t.Fatal(err)
		}
	}
	call.Hangup()
	if r := result(ctx, t, done); r.res.End != EndHangup || r.res.Stats.MediaDropped == 0 {
		t.Errorf("Run = %v, %v, stats %+v", r.res.End, r.err, r.res.Stats)
	}
}

// TestStreamTLS checks a wss:// stream, with an HTTPClient that trusts
// the agent's certificate.
func TestStreamTLS(t *testing.T) {
	ctx := testContext(t)
	srv := newServer(t, withTLS)
	if !strings.HasPrefix(srv.url, "wss://") {
		t.Fatalf("server URL %q", srv.url)
	}
	call := agenttest.New()
	done := startRun(ctx, call, Options{URL: srv.url, HTTPClient: srv.client})
	p := srv.accept(ctx, t)
	p.handshake(ctx, t)
	p.sendMedia(ctx, t, mulawSignal(160, 0))
	if _, err := call.AwaitPlayed(ctx, 160); err != nil {
		t.Fatal(err)
	}
	p.hangup(ctx, t, call)
	if r := result(ctx, t, done); r.res.End != EndHangup || r.err != nil {
		t.Errorf("Run = %v, %v", r.res.End, r.err)
	}

	// Without a client that trusts it, the handshake fails.
	if res, err := Run(ctx, agenttest.New(), Options{URL: srv.url}); res.End != EndDialFailed || !errors.Is(err, ErrDial) {
		t.Errorf("Run with an untrusted certificate = %v, %v", res.End, err)
	}
}

// streamTo runs a stream of call to a new test server and returns the
// server's side once the connected and start messages are through.
func streamTo(ctx context.Context, t *testing.T, call agent.Call) (*peer, <-chan runResult) {
	t.Helper()
	srv := newServer(t)
	done := startRun(ctx, call, Options{URL: srv.url})
	p := srv.accept(ctx, t)
	p.handshake(ctx, t)
	return p, done
}
