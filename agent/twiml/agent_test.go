package twiml

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/agenttest"
	"github.com/sipagent/sipagent/media/wav"
)

// app is a TwiML application on a real HTTP server: each path answers
// with a document (or a WAV), and every request is recorded.
type app struct {
	t      *testing.T
	token  string
	docs   map[string]string
	wav    []byte
	srv    *httptest.Server
	mu     sync.Mutex
	visits []visit
}

type visit struct {
	path   string
	params url.Values
	signed bool
}

func newApp(t *testing.T, token string, docs map[string]string) *app {
	a := &app{t: t, token: token, docs: docs}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *app) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/a.wav" {
		_, _ = w.Write(a.wav)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	u := "http://" + r.Host + r.URL.RequestURI()
	var params url.Values
	if r.Method == "POST" {
		params = r.PostForm
	}
	signed := a.token != "" && r.Header.Get("X-Twilio-Signature") == Signature(a.token, u, params)
	a.mu.Lock()
	a.visits = append(a.visits, visit{path: r.URL.Path, params: r.Form, signed: signed})
	a.mu.Unlock()
	doc, ok := a.docs[r.URL.Path]
	if !ok {
		http.Error(w, "no such document", 500)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write([]byte(doc))
}

func (a *app) seen() []visit {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.visits)
}

// fakeSynth says text as len(text) samples of value 7.
type fakeSynth struct{}

func (fakeSynth) Synthesize(_ context.Context, text string) ([]int16, error) {
	pcm := make([]int16, len(text))
	for i := range pcm {
		pcm[i] = 7
	}
	return pcm, nil
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustNew(t *testing.T, cfg Config) *Agent {
	t.Helper()
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// A whole application: greeting, a menu whose digits go to the action,
// a WAV, a <Dial> whose busy outcome goes to its action, a redirect and
// a hangup; every request signed and carrying the call's parameters.
func TestApplicationRuns(t *testing.T) {
	ctx := testContext(t)
	web := newApp(t, "secret-token", map[string]string{
		"/voice": `<Response><Say>Welcome</Say><Gather numDigits="2" action="/menu"><Say>Two digits</Say></Gather><Say>Nothing entered</Say></Response>`,
		"/menu":  `<Response><Play>/a.wav</Play><Dial action="/after" timeout="20"><Sip>sip:sales@example.com</Sip></Dial></Response>`,
		"/after": `<Response><Redirect method="GET">/bye?x=1</Redirect></Response>`,
		"/bye":   `<Response><Hangup/><Say>never</Say></Response>`,
	})
	tone := []int16{100, 200, 300, 400, 500, 600, 700, 800}
	var buf bytes.Buffer
	if err := wav.Encode(&buf, tone, 8000); err != nil {
		t.Fatal(err)
	}
	web.wav = buf.Bytes()

	var dialed []string
	call := agenttest.New(
		agenttest.WithInfo(agent.Info{CallID: "abc@host", From: "sip:alice@example.com", To: "sip:bot@sipagent",
			Headers: []agent.Header{{Name: "X-Customer", Value: "42"}, {Name: "User-Agent", Value: "x"}}}),
		agenttest.WithTransfer(func(_ context.Context, req agent.TransferRequest) (agent.TransferResult, error) {
			dialed = append(dialed, req.TwiML)
			return agent.TransferResult{Status: "busy", SIPCode: 486}, nil
		}))
	a := mustNew(t, Config{URL: web.srv.URL + "/voice", AuthToken: "secret-token", Synthesizer: fakeSynth{}})
	if err := call.Press(ctx, "42"); err != nil {
		t.Fatal(err)
	}
	if err := agenttest.Result(ctx, agenttest.Start(ctx, a, call)); err != nil {
		t.Fatalf("Serve: %v", err)
	}

	visits := web.seen()
	var paths []string
	for _, v := range visits {
		paths = append(paths, v.path)
		if !v.signed {
			t.Errorf("request to %s not signed right", v.path)
		}
	}
	if want := []string{"/voice", "/menu", "/after", "/bye"}; !slices.Equal(paths, want) {
		t.Fatalf("requests %v, want %v", paths, want)
	}
	first := visits[0].params
	for k, want := range map[string]string{
		"CallSid": agent.Info{CallID: "abc@host"}.CallSid(), "From": "sip:alice@example.com", "To": "sip:bot@sipagent",
		"CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01", "SipHeader_X-Customer": "42",
	} {
		if got := first.Get(k); got != want {
			t.Errorf("first request %s = %q, want %q", k, got, want)
		}
	}
	if first.Has("SipHeader_User-Agent") {
		t.Error("non-X- header passed as SipHeader_")
	}
	if got := visits[1].params.Get("Digits"); got != "42" {
		t.Errorf("Digits = %q, want 42", got)
	}
	if got := visits[1].params.Get("CallStatus"); got != "in-progress" {
		t.Errorf("CallStatus after answering = %q", got)
	}
	if got := visits[2].params; got.Get("DialCallStatus") != "busy" || got.Get("DialSipResponseCode") != "486" {
		t.Errorf("dial action params %v", got)
	}
	if got := visits[3].params.Get("x"); got != "1" {
		t.Errorf("GET redirect lost its query: %v", visits[3].params)
	}
	if len(dialed) != 1 || !strings.Contains(dialed[0], "<Sip>sip:sales@example.com</Sip>") || !strings.HasPrefix(dialed[0], "<Response><Dial") {
		t.Errorf("transfer TwiML %q", dialed)
	}
	// "Welcome" (7 samples), then the WAV; the gather prompt was cut by
	// the typed-ahead digits, and nothing after the hangup.
	rec := call.Snapshot()
	if rec.Answers == 0 {
		t.Error("the call was never answered")
	}
	want := append(slices.Repeat([]int16{7}, len("Welcome")), tone...)
	if !slices.Equal(rec.Played, want) {
		t.Errorf("played %v, want %v", rec.Played, want)
	}
}

// A Gather with no input goes on with the next verb.
func TestGatherTimeoutGoesOn(t *testing.T) {
	ctx := testContext(t)
	web := newApp(t, "", map[string]string{
		"/voice": `<Response><Gather timeout="1" action="/never"/><Say>Bye</Say></Response>`,
	})
	call := agenttest.New()
	a := mustNew(t, Config{URL: web.srv.URL + "/voice", Synthesizer: fakeSynth{}})
	if err := agenttest.Result(ctx, agenttest.Start(ctx, a, call)); err != nil {
		t.Fatal(err)
	}
	if got := call.Snapshot().Played; len(got) != len("Bye") {
		t.Errorf("played %d samples, want the goodbye", len(got))
	}
	if n := len(web.seen()); n != 1 {
		t.Errorf("%d requests, want 1 (no action without input)", n)
	}
}

// An application that fails - HTTP 500, a document sipagent cannot run,
// nothing listening - hands the call to the fallback agent.
func TestFallback(t *testing.T) {
	web := newApp(t, "", map[string]string{"/bad": `<Response><Sms>hi</Sms></Response>`})
	for _, u := range []string{web.srv.URL + "/missing", web.srv.URL + "/bad", "http://127.0.0.1:1/voice"} {
		ctx := testContext(t)
		ran := make(chan struct{})
		fallback := agent.AgentFunc(func(context.Context, agent.Call) error { close(ran); return nil })
		a := mustNew(t, Config{URL: u, Fallback: fallback, Timeout: 5 * time.Second})
		if err := agenttest.Result(ctx, agenttest.Start(ctx, a, agenttest.New())); err != nil {
			t.Errorf("%s: Serve = %v", u, err)
		}
		select {
		case <-ran:
		default:
			t.Errorf("%s: fallback did not run", u)
		}
	}
}

// rejectingCall is a call that can refuse itself, as a *sip.Call can.
type rejectingCall struct {
	*agenttest.Call
	code chan int
}

func (c *rejectingCall) Reject(_ context.Context, code int) error { c.code <- code; return nil }

func TestRejectBeforeAnswer(t *testing.T) {
	ctx := testContext(t)
	web := newApp(t, "", map[string]string{"/voice": `<Response><Reject reason="busy"/><Say>never</Say></Response>`})
	call := &rejectingCall{Call: agenttest.New(), code: make(chan int, 1)}
	a := mustNew(t, Config{URL: web.srv.URL + "/voice", Synthesizer: fakeSynth{}})
	if err := a.Serve(ctx, call); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-call.code:
		if code != 486 {
			t.Errorf("rejected with %d, want 486", code)
		}
	default:
		t.Error("call not rejected")
	}
	if rec := call.Snapshot(); rec.Answers != 0 || len(rec.Played) != 0 {
		t.Errorf("rejected call was answered or played to: %s", rec.String())
	}
}

// <Connect><Stream> runs the stream function with the URL and
// parameters, then the document goes on.
func TestConnectStream(t *testing.T) {
	ctx := testContext(t)
	web := newApp(t, "", map[string]string{
		"/voice": `<Response><Connect><Stream url="wss://bot.example/s"><Parameter name="a" value="b"/></Stream></Connect><Say>Back</Say></Response>`,
	})
	var gotURL string
	var gotParams map[string]string
	stream := func(_ context.Context, _ agent.Call, u string, p map[string]string) error {
		gotURL, gotParams = u, p
		return nil
	}
	call := agenttest.New()
	a := mustNew(t, Config{URL: web.srv.URL + "/voice", Synthesizer: fakeSynth{}, Stream: stream})
	if err := agenttest.Result(ctx, agenttest.Start(ctx, a, call)); err != nil {
		t.Fatal(err)
	}
	if gotURL != "wss://bot.example/s" || gotParams["a"] != "b" {
		t.Errorf("stream ran with %q %v", gotURL, gotParams)
	}
	if got := call.Snapshot().Played; len(got) != len("Back") {
		t.Errorf("played %d samples after the stream, want %d", len(got), len("Back"))
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for _, cfg := range []Config{{URL: "ftp://x"}, {URL: ""}, {URL: "http://x", Method: "PUT"}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}

// <Play> plays MP3 as well as WAV: a tone encoded by lame (a real
// encoder) comes out at 8 kHz with its pitch intact.
func TestPlayMP3(t *testing.T) {
	ctx := testContext(t)
	lame, err := exec.LookPath("lame")
	if err != nil {
		t.Fatal("lame not found: run `make deps` (Debian package lame)")
	}
	dir := t.TempDir()
	// One second of 440 Hz at 22.05 kHz, as raw 16-bit samples.
	raw := make([]byte, 2*22050)
	for i := range 22050 {
		v := int16(8000 * math.Sin(2*math.Pi*440*float64(i)/22050))
		binary.LittleEndian.PutUint16(raw[2*i:], uint16(v))
	}
	in, out := filepath.Join(dir, "tone.raw"), filepath.Join(dir, "tone.mp3")
	if err := os.WriteFile(in, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, lame, "--quiet", "-r", "-s", "22.05", "--bitwidth", "16", "--signed", "--little-endian", "-m", "m", "-b", "64", in, out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("lame: %v\n%s", err, b)
	}
	mp3Data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	web := newApp(t, "", map[string]string{"/voice": `<Response><Play>/a.wav</Play></Response>`})
	web.wav = mp3Data // served at /a.wav whatever its name
	call := agenttest.New()
	a := mustNew(t, Config{URL: web.srv.URL + "/voice"})
	if err := agenttest.Result(ctx, agenttest.Start(ctx, a, call)); err != nil {
		t.Fatal(err)
	}
	played := call.Snapshot().Played
	if n := len(played); n < 7000 || n > 9500 {
		t.Fatalf("played %d samples, want about one second at 8 kHz", n)
	}
	// Count zero crossings: 440 Hz crosses 880 times a second.
	crossings := 0
	for i := 1; i < len(played); i++ {
		if (played[i-1] < 0) != (played[i] < 0) {
			crossings++
		}
	}
	rate := float64(crossings) / (float64(len(played)) / 8000) / 2
	t.Logf("MP3 played: %d samples, %.0f Hz", len(played), rate)
	if rate < 420 || rate > 460 {
		t.Errorf("tone at %.0f Hz after decoding, want 440", rate)
	}
}

// The status callback hears ringing, answered and completed, in order,
// with the call's parameters.
func TestStatusCallback(t *testing.T) {
	ctx := testContext(t)
	web := newApp(t, "tok", map[string]string{
		"/voice":  `<Response><Say>Hi</Say></Response>`,
		"/status": ``,
	})
	call := agenttest.New(agenttest.WithInfo(agent.Info{CallID: "cb@x"}))
	a := mustNew(t, Config{URL: web.srv.URL + "/voice", AuthToken: "tok", Synthesizer: fakeSynth{}, StatusCallback: web.srv.URL + "/status"})
	if err := agenttest.Result(ctx, agenttest.Start(ctx, a, call)); err != nil {
		t.Fatal(err)
	}
	var events []string
	for _, v := range web.seen() {
		if v.path != "/status" {
			continue
		}
		if !v.signed || v.params.Get("CallSid") != (agent.Info{CallID: "cb@x"}).CallSid() {
			t.Errorf("status request %v not signed or without the CallSid", v.params)
		}
		events = append(events, v.params.Get("StatusCallbackEvent")+"/"+v.params.Get("CallStatus"))
	}
	if want := []string{"ringing/ringing", "answered/in-progress", "completed/completed"}; !slices.Equal(events, want) {
		t.Errorf("status events %v, want %v", events, want)
	}
}
