package twiml

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/agenttest"
	"github.com/sipagent/sipagent/agent/speech"
)

func TestParseGatherSpeech(t *testing.T) {
	for _, tt := range []struct {
		attrs string
		want  *SpeechInput
	}{
		{``, nil},
		{`input="dtmf"`, nil},
		{`input="speech"`, &SpeechInput{EndSilence: 5 * time.Second, MaxSpeechTime: time.Minute}},
		{`input="speech dtmf" timeout="3"`, &SpeechInput{DTMF: true, EndSilence: 3 * time.Second, MaxSpeechTime: time.Minute}},
		{
			`input="dtmf speech" speechTimeout="auto" maxSpeechTime="20" hints="sales, support ,, technical  support" language="en-GB"`,
			&SpeechInput{DTMF: true, MaxSpeechTime: 20 * time.Second, Hints: []string{"sales", "support", "technical support"}, Language: "en-GB"},
		},
		{`input="speech" speechTimeout="2"`, &SpeechInput{EndSilence: 2 * time.Second, MaxSpeechTime: time.Minute}},
	} {
		verbs, err := Parse([]byte(`<Response><Gather ` + tt.attrs + `><Say>Sales or support?</Say></Gather></Response>`))
		if err != nil {
			t.Errorf("%s: %v", tt.attrs, err)
			continue
		}
		if got := verbs[0].(*Gather).Speech; !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Speech = %+v, want %+v", tt.attrs, got, tt.want)
		}
	}
}

func TestParseGatherSpeechErrors(t *testing.T) {
	for _, tt := range []struct{ attrs, want string }{
		{`input="voice"`, "input"},
		{`input=""`, "input"},
		{`input="speech" speechTimeout="soon"`, "speechTimeout"},
		{`input="speech" speechTimeout="0"`, "speechTimeout"},
		{`input="speech" maxSpeechTime="100"`, "maxSpeechTime"},
		{`input="speech" language="en_US"`, "language"},
		{`input="speech" language="1en"`, "language"},
		{`input="speech" hints="` + strings.Repeat("a", 101) + `"`, "hint"},
		{`input="speech" hints="` + strings.Repeat("a,", MaxHints+1) + `"`, "hints"},
	} {
		_, err := Parse([]byte(`<Response><Gather ` + tt.attrs + `/></Response>`))
		var pe *Error
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error about %s", tt.attrs, err, tt.want)
		}
	}
}

// scriptedRecognizer gives out streams that say what the test scripts.
type scriptedRecognizer struct {
	opts    chan speech.RecognizeOptions
	script  []speech.Transcript // sent once audio arrives
	err     error
	mu      sync.Mutex
	streams int
}

func (r *scriptedRecognizer) Start(_ context.Context, opts speech.RecognizeOptions) (speech.Stream, error) {
	if r.err != nil {
		return nil, r.err
	}
	r.mu.Lock()
	r.streams++
	r.mu.Unlock()
	if r.opts != nil {
		r.opts <- opts
	}
	return &scriptedStream{script: r.script, results: make(chan speech.Transcript, len(r.script)+1)}, nil
}

type scriptedStream struct {
	mu      sync.Mutex
	script  []speech.Transcript
	results chan speech.Transcript
	closed  bool
}

// Write plays the script on the first audio, as a recognizer hears speech.
func (s *scriptedStream) Write([]int16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return speech.ErrStreamClosed
	}
	for _, tr := range s.script {
		s.results <- tr
	}
	s.script = nil
	return nil
}

func (s *scriptedStream) Results() <-chan speech.Transcript { return s.results }

func (s *scriptedStream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// newSession is a session of agent a on call, as Serve makes one.
func newSession(a *Agent, call agent.Call) *session {
	return &session{a: a, call: call, info: call.Info(), log: a.log, docURL: "http://127.0.0.1:1/voice"}
}

// talk sends frames of caller audio until ctx ends.
func talk(ctx context.Context, call *agenttest.Call) {
	frame := make([]int16, agent.FrameSamples)
	for call.SendAudio(ctx, frame) == nil {
	}
}

func gatherOf(t *testing.T, doc string) *Gather {
	t.Helper()
	verbs, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return verbs[0].(*Gather)
}

// What the caller says goes to the action as SpeechResult and
// Confidence; the gather's hints, language and timeouts reach the
// recognizer.
func TestGatherSpeechResult(t *testing.T) {
	ctx := testContext(t)
	rec := &scriptedRecognizer{
		opts:   make(chan speech.RecognizeOptions, 1),
		script: []speech.Transcript{{SpeechStarted: true}, {Text: "sales"}, {Text: "sales", Final: true, Confidence: 0.875}},
	}
	a := mustNew(t, Config{URL: "http://127.0.0.1:1/voice", Synthesizer: fakeSynth{}, Recognizer: rec})
	call := agenttest.New()
	tctx, stop := context.WithCancel(ctx)
	defer stop()
	go talk(tctx, call)
	g := gatherOf(t, `<Response><Gather input="speech" speechTimeout="auto" hints="sales, support" language="en-US"><Say>Sales or support?</Say></Gather></Response>`)
	params, err := newSession(a, call).gatherInput(ctx, g)
	if err != nil {
		t.Fatal(err)
	}
	if want := (url.Values{"SpeechResult": {"sales"}, "Confidence": {"0.875"}}); !reflect.DeepEqual(params, want) {
		t.Errorf("action parameters %v, want %v", params, want)
	}
	opts := <-rec.opts
	if opts.EndSilence != 0 || !reflect.DeepEqual(opts.Hints, []string{"sales", "support"}) || opts.Language != "en-US" {
		t.Errorf("recognizer options %+v", opts)
	}
}

// input="dtmf speech": a key stops listening and the gather goes on for
// digits, which go to the action as Digits - through Serve, to the
// application.
func TestGatherDTMFSpeechKeys(t *testing.T) {
	ctx := testContext(t)
	web := newApp(t, "", map[string]string{
		"/voice": `<Response><Gather input="dtmf speech" numDigits="3" action="/menu"><Say>Say or press</Say></Gather></Response>`,
		"/menu":  `<Response><Hangup/></Response>`,
	})
	rec := &scriptedRecognizer{opts: make(chan speech.RecognizeOptions, 1)}
	call := agenttest.New()
	a := mustNew(t, Config{URL: web.srv.URL + "/voice", Synthesizer: fakeSynth{}, Recognizer: rec})
	done := agenttest.Start(ctx, a, call)
	<-rec.opts // listening
	if err := call.Press(ctx, "123"); err != nil {
		t.Fatal(err)
	}
	if err := agenttest.Result(ctx, done); err != nil {
		t.Fatal(err)
	}
	visits := web.seen()
	if len(visits) != 2 || visits[1].params.Get("Digits") != "123" || visits[1].params.Has("SpeechResult") {
		t.Errorf("requests %+v, want /menu with Digits=123", visits)
	}
}

// Without a recognizer a speech gather is skipped with a warning (its
// prompts too), and a dtmf-and-speech one collects keys.
func TestGatherSpeechWithoutRecognizer(t *testing.T) {
	ctx := testContext(t)
	web := newApp(t, "", map[string]string{
		"/voice": `<Response><Gather input="speech" action="/never"><Say>Say it</Say></Gather><Say>Bye</Say></Response>`,
		"/keys":  `<Response><Gather input="dtmf speech" numDigits="1" action="/got"><Say>Say it</Say></Gather></Response>`,
		"/got":   `<Response/>`,
	})
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	call := agenttest.New()
	a := mustNew(t, Config{URL: web.srv.URL + "/voice", Synthesizer: fakeSynth{}, Logger: logger})
	if err := agenttest.Result(ctx, agenttest.Start(ctx, a, call)); err != nil {
		t.Fatal(err)
	}
	if got := call.Snapshot().Played; len(got) != len("Bye") {
		t.Errorf("played %d samples, want only the goodbye", len(got))
	}
	if n := len(web.seen()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	if !strings.Contains(logs.String(), "no speech recognizer") {
		t.Errorf("no warning logged: %s", logs.String())
	}

	call = agenttest.New()
	if err := call.Press(ctx, "4"); err != nil {
		t.Fatal(err)
	}
	keys, err := a.At("/keys", "POST")
	if err != nil {
		t.Fatal(err)
	}
	if err := agenttest.Result(ctx, agenttest.Start(ctx, keys, call)); err != nil {
		t.Fatal(err)
	}
	if v := web.seen(); v[len(v)-1].path != "/got" || v[len(v)-1].params.Get("Digits") != "4" {
		t.Errorf("last request %+v, want /got with Digits=4", v[len(v)-1])
	}
}

// A recognizer that cannot start is no input: the document goes on.
func TestGatherSpeechRecognizerFails(t *testing.T) {
	ctx := testContext(t)
	web := newApp(t, "", map[string]string{
		"/voice": `<Response><Gather input="speech" action="/never"/><Say>Bye</Say></Response>`,
	})
	call := agenttest.New()
	a := mustNew(t, Config{URL: web.srv.URL + "/voice", Synthesizer: fakeSynth{}, Recognizer: &scriptedRecognizer{err: errors.New("service down")}})
	if err := agenttest.Result(ctx, agenttest.Start(ctx, a, call)); err != nil {
		t.Fatal(err)
	}
	if got := call.Snapshot().Played; len(got) != len("Bye") {
		t.Errorf("played %d samples, want the goodbye", len(got))
	}
}

// Nothing said within the timeout: no input.
func TestGatherSpeechNoInput(t *testing.T) {
	ctx := testContext(t)
	rec := &scriptedRecognizer{}
	a := mustNew(t, Config{URL: "http://127.0.0.1:1/voice", Synthesizer: fakeSynth{}, Recognizer: rec})
	call := agenttest.New()
	g := gatherOf(t, `<Response><Gather input="speech" timeout="1"/></Response>`)
	params, err := newSession(a, call).gatherInput(ctx, g)
	if err != nil || params != nil {
		t.Errorf("gatherInput = %v, %v; want no input", params, err)
	}
}
