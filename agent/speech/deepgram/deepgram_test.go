package deepgram

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/sipagent/sipagent/agent/agenttest"
	"github.com/sipagent/sipagent/agent/speech"
)

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

const testKey = "dg-test-key-123"

// fakeDeepgram stands in for the hosted service at wss://api.deepgram.com
// /v1/listen: it speaks the live transcription protocol as Deepgram
// documents it (handshake with Authorization: Token, binary audio in,
// KeepAlive and CloseStream text messages in, JSON results out, Metadata
// and a normal close after CloseStream), on a loopback server. The test
// scripts what it says.
type fakeDeepgram struct {
	srv     *httptest.Server
	ctx     context.Context
	hello   chan handshake
	audio   chan []byte
	control chan string    // type of each text message received
	send    chan string    // messages to send
	kill    chan closeWith // close the connection with this status
}

type handshake struct {
	query url.Values
	auth  string
}

type closeWith struct {
	code   websocket.StatusCode
	reason string
}

func newFake(t *testing.T) *fakeDeepgram {
	ctx, cancel := context.WithCancel(context.Background())
	f := &fakeDeepgram{
		ctx:     ctx,
		hello:   make(chan handshake, 4),
		audio:   make(chan []byte, 1024),
		control: make(chan string, 64),
		send:    make(chan string),
		kill:    make(chan closeWith),
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		cancel()
		f.srv.Close()
	})
	return f
}

func (f *fakeDeepgram) url() string {
	return "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/v1/listen"
}

func (f *fakeDeepgram) serve(w http.ResponseWriter, r *http.Request) {
	f.hello <- handshake{query: r.URL.Query(), auth: r.Header.Get("Authorization")}
	if r.Header.Get("Authorization") != "Token "+testKey {
		w.Header().Set("dg-error", "Invalid credentials.")
		http.Error(w, `{"err_code":"INVALID_AUTH"}`, http.StatusUnauthorized)
		return
	}
	w.Header().Set("dg-request-id", "req-1")
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer func() { _ = c.CloseNow() }()
	ctx := f.ctx
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for {
			typ, b, err := c.Read(ctx)
			if err != nil {
				return
			}
			if typ == websocket.MessageBinary {
				f.audio <- b
				continue
			}
			var m struct{ Type string }
			_ = json.Unmarshal(b, &m)
			f.control <- m.Type
			if m.Type == "CloseStream" {
				_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"Metadata","transaction_key":"deprecated","request_id":"req-1","duration":1.5,"channels":1}`))
				_ = c.Close(websocket.StatusNormalClosure, "")
				return
			}
		}
	}()
	for {
		select {
		case m := <-f.send:
			_ = c.Write(ctx, websocket.MessageText, []byte(m))
		case k := <-f.kill:
			_ = c.Close(k.code, k.reason)
			<-readDone
			return
		case <-readDone:
			return
		case <-ctx.Done():
			return
		}
	}
}

func newRecognizer(t *testing.T, cfg Config) *Recognizer {
	t.Helper()
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// next returns the stream's next transcript.
func next(t *testing.T, ctx context.Context, s speech.Stream) speech.Transcript {
	t.Helper()
	select {
	case tr, ok := <-s.Results():
		if !ok {
			t.Fatal("Results closed")
		}
		return tr
	case <-ctx.Done():
		t.Fatal("no transcript")
	}
	return speech.Transcript{}
}

func results(text string, conf float64, isFinal, speechFinal bool) string {
	b, _ := json.Marshal(map[string]any{
		"type": "Results", "channel_index": []int{0, 1}, "duration": 0.5, "start": 0.0,
		"is_final": isFinal, "speech_final": speechFinal,
		"channel":  map[string]any{"alternatives": []map[string]any{{"transcript": text, "confidence": conf, "words": []any{}}}},
		"metadata": map[string]any{"request_id": "req-1"},
	})
	return string(b)
}

func TestStreamTranscripts(t *testing.T) {
	ctx := testContext(t)
	f := newFake(t)
	rec := newRecognizer(t, Config{APIKey: testKey, URL: f.url()})
	s, err := rec.Start(ctx, speech.RecognizeOptions{Hints: []string{"sales", " technical  support "}, EndSilence: 500 * time.Millisecond, Language: "en-GB"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()

	h := <-f.hello
	if h.auth != "Token "+testKey {
		t.Errorf("Authorization %q", h.auth)
	}
	for k, want := range map[string]string{
		"encoding": "linear16", "sample_rate": "8000", "channels": "1", "interim_results": "true",
		"endpointing": "500", "utterance_end_ms": "1000", "vad_events": "true", "model": "nova-3", "language": "en-GB",
	} {
		if got := h.query.Get(k); got != want {
			t.Errorf("query %s = %q, want %q", k, got, want)
		}
	}
	if got := h.query["keyterm"]; !slices.Equal(got, []string{"sales", "technical support"}) {
		t.Errorf("keyterm %q", got)
	}

	// Audio arrives as little-endian 16-bit samples.
	if err := s.Write([]int16{1, -2, 300}); err != nil {
		t.Fatal(err)
	}
	if got := <-f.audio; !slices.Equal(got, []byte{1, 0, 0xfe, 0xff, 0x2c, 1}) {
		t.Errorf("server got audio % x", got)
	}

	// An utterance in two is_final segments, the last speech_final.
	f.send <- `{"type":"SpeechStarted","channel":[0],"timestamp":0.2}`
	f.send <- results("sa", 0.5, false, false)
	f.send <- results("sales", 0.9, true, false)
	f.send <- results("please", 0.7, true, true)
	want := []speech.Transcript{
		{SpeechStarted: true},
		{Text: "sa"},
		{Text: "sales"},
		{Text: "sales please", Final: true, Confidence: 0.8},
	}
	for _, w := range want {
		if got := next(t, ctx, s); got.Text != w.Text || got.Final != w.Final || got.SpeechStarted != w.SpeechStarted || !near(got.Confidence, w.Confidence) {
			t.Errorf("transcript %+v, want %+v", got, w)
		}
	}

	// One ended by UtteranceEnd, without a SpeechStarted event.
	f.send <- results("support", 0.6, true, false)
	f.send <- `{"type":"Metadata","request_id":"x"}`
	f.send <- `{"type":"UtteranceEnd","channel":[0,1],"last_word_end":2.1}`
	for _, w := range []speech.Transcript{{SpeechStarted: true}, {Text: "support"}, {Text: "support", Final: true, Confidence: 0.6}} {
		if got := next(t, ctx, s); got.Text != w.Text || got.Final != w.Final || got.SpeechStarted != w.SpeechStarted || !near(got.Confidence, w.Confidence) {
			t.Errorf("transcript %+v, want %+v", got, w)
		}
	}

	// Speech that came to nothing ends in an empty Final.
	f.send <- `{"type":"SpeechStarted","channel":[0],"timestamp":3}`
	f.send <- results("", 0, true, true)
	if got := next(t, ctx, s); !got.SpeechStarted {
		t.Errorf("transcript %+v, want SpeechStarted", got)
	}
	if got := next(t, ctx, s); !got.Final || got.Text != "" {
		t.Errorf("transcript %+v, want an empty Final", got)
	}

	// Close sends CloseStream; the server's close ends Results.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := <-f.control; got != "CloseStream" {
		t.Errorf("server got %q, want CloseStream", got)
	}
	for range s.Results() {
	}
	if err := s.(*Stream).Err(); err != nil {
		t.Errorf("Err after Close = %v", err)
	}
	if err := s.Write([]int16{1}); !errors.Is(err, speech.ErrStreamClosed) {
		t.Errorf("Write after Close = %v", err)
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func TestKeepAliveWhenIdle(t *testing.T) {
	ctx := testContext(t)
	f := newFake(t)
	rec := newRecognizer(t, Config{APIKey: testKey, URL: f.url(), KeepAlive: 50 * time.Millisecond})
	s, err := rec.Start(ctx, speech.RecognizeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	<-f.hello
	for range 2 {
		select {
		case got := <-f.control:
			if got != "KeepAlive" {
				t.Fatalf("server got %q, want KeepAlive", got)
			}
		case <-ctx.Done():
			t.Fatal("no KeepAlive while idle")
		}
	}
}

// The server closing the connection (Deepgram's NET-0001 after 10 s
// without audio) ends Results, and Listen reports it.
func TestServerCloseEndsStream(t *testing.T) {
	ctx := testContext(t)
	f := newFake(t)
	rec := newRecognizer(t, Config{APIKey: testKey, URL: f.url()})
	call := agenttest.New()
	done := make(chan error, 1)
	go func() {
		_, err := speech.Listen(ctx, call, rec, speech.ListenOptions{})
		done <- err
	}()
	<-f.hello
	f.send <- `{"type":"Error","variant":"DATA-0000","description":"Bad audio","message":"could not decode"}`
	f.kill <- closeWith{websocket.StatusPolicyViolation, "NET-0001"}
	select {
	case err := <-done:
		if !errors.Is(err, speech.ErrStreamEnded) || !strings.Contains(err.Error(), "DATA-0000: Bad audio") {
			t.Errorf("Listen = %v, want ErrStreamEnded with the server's error", err)
		}
	case <-ctx.Done():
		t.Fatal("Listen did not end")
	}

	// And a bare close, with the stream on its own.
	s, err := rec.Start(ctx, speech.RecognizeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	<-f.hello
	f.kill <- closeWith{websocket.StatusPolicyViolation, "NET-0001"}
	for range s.Results() {
	}
	if err := s.(*Stream).Err(); err == nil || !strings.Contains(err.Error(), "NET-0001") {
		t.Errorf("Err = %v, want the close reason", err)
	}
}

func TestBadKeyRefused(t *testing.T) {
	ctx := testContext(t)
	f := newFake(t)
	rec := newRecognizer(t, Config{APIKey: "wrong", URL: f.url()})
	_, err := rec.Start(ctx, speech.RecognizeOptions{})
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "Invalid credentials") {
		t.Errorf("Start with a bad key = %v, want HTTP 401", err)
	}
	if err != nil && strings.Contains(err.Error(), "wrong") {
		t.Errorf("error %q shows the key", err)
	}
}

// Older models take hints as keywords; the URL's own query is kept.
func TestKeywordsForOlderModels(t *testing.T) {
	ctx := testContext(t)
	f := newFake(t)
	rec := newRecognizer(t, Config{APIKey: testKey, URL: f.url() + "?tag=x", Model: "nova-2-phonecall", Language: "es"})
	s, err := rec.Start(ctx, speech.RecognizeOptions{Hints: []string{"ventas", ""}})
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	h := <-f.hello
	if got := h.query["keywords"]; !slices.Equal(got, []string{"ventas"}) || h.query.Has("keyterm") {
		t.Errorf("keywords %q keyterm %q", got, h.query["keyterm"])
	}
	if h.query.Get("tag") != "x" || h.query.Get("language") != "es" || h.query.Get("model") != "nova-2-phonecall" {
		t.Errorf("query %v", h.query)
	}
	if _, err := rec.Start(ctx, speech.RecognizeOptions{Hints: make([]string, MaxHints+1)}); err == nil {
		t.Error("too many hints accepted")
	}
}

func TestNewChecksConfig(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{APIKey: "k\r\nX: y"},
		{APIKey: "k", URL: "https://api.deepgram.com/v1/listen"},
		{APIKey: "k", URL: "ws://"},
		{APIKey: "k", KeepAlive: -time.Second},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%v) succeeded", cfg)
		}
	}
	r := newRecognizer(t, Config{APIKey: "secret"})
	if r.cfg.URL != DefaultURL || r.cfg.Model != DefaultModel || r.cfg.KeepAlive != DefaultKeepAlive {
		t.Errorf("defaults not filled: %v", r.cfg)
	}
	if s := r.cfg.String(); strings.Contains(s, "secret") {
		t.Errorf("Config.String shows the key: %s", s)
	}
}

func TestStreamEndsWithContext(t *testing.T) {
	ctx := testContext(t)
	f := newFake(t)
	rec := newRecognizer(t, Config{APIKey: testKey, URL: f.url()})
	sctx, cancel := context.WithCancel(ctx)
	s, err := rec.Start(sctx, speech.RecognizeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	<-f.hello
	cancel()
	for range s.Results() {
	}
	if err := s.(*Stream).Err(); err != nil {
		t.Errorf("Err after cancel = %v", err)
	}
	_ = s.Close()
}
