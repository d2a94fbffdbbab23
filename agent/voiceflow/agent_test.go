package voiceflow

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"log/slog"
	"math"
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
	"github.com/sipagent/sipagent/agent/speech"
	"github.com/sipagent/sipagent/agent/voiceflow/voiceflowtest"
)

const testKey = "VF.DM.test-key"

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fakeSynth says text as len(text) samples of value 7.
type fakeSynth struct{}

func (fakeSynth) Synthesize(_ context.Context, text string) ([]int16, error) {
	return slices.Repeat([]int16{7}, len(text)), nil
}

// scriptedRecognizer hears the given utterances, one per stream, each
// after a second of audio has been written to it.
type scriptedRecognizer struct {
	mu    sync.Mutex
	words []string
	hints [][]string
}

func (r *scriptedRecognizer) Start(ctx context.Context, o speech.RecognizeOptions) (speech.Stream, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hints = append(r.hints, slices.Clone(o.Hints))
	w := ""
	if len(r.words) > 0 {
		w, r.words = r.words[0], r.words[1:]
	}
	return &scriptedStream{word: w, results: make(chan speech.Transcript, 4)}, nil
}

type scriptedStream struct {
	mu      sync.Mutex
	word    string
	written int
	results chan speech.Transcript
	closed  bool
}

func (s *scriptedStream) Write(pcm []int16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.word == "" {
		return nil
	}
	before := s.written
	s.written += len(pcm)
	if before == 0 {
		s.results <- speech.Transcript{SpeechStarted: true}
	}
	if before < 8000 && s.written >= 8000 {
		s.results <- speech.Transcript{Text: s.word, Final: true, Confidence: 0.9}
	}
	return nil
}

func (s *scriptedStream) Results() <-chan speech.Transcript { return s.results }

func (s *scriptedStream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.results)
	}
	return nil
}

// talk sends silence frames as the caller's audio until ctx ends.
func talk(ctx context.Context, call *agenttest.Call) {
	frame := make([]int16, agent.FrameSamples)
	for call.SendAudio(ctx, frame) == nil {
	}
}

// mp3DataURI encodes one second of 440 Hz with lame into a data: URI, as
// Voiceflow's TTS sends audio.
func mp3DataURI(t *testing.T) string {
	t.Helper()
	lame, err := exec.LookPath("lame")
	if err != nil {
		t.Fatal("lame not found: run `make deps` (Debian package lame)")
	}
	dir := t.TempDir()
	raw := make([]byte, 2*16000)
	for i := range 16000 {
		binary.LittleEndian.PutUint16(raw[2*i:], uint16(int16(8000*math.Sin(2*math.Pi*440*float64(i)/16000))))
	}
	in, out := filepath.Join(dir, "a.raw"), filepath.Join(dir, "a.mp3")
	if err := os.WriteFile(in, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(lame, "--quiet", "-r", "-s", "16", "--bitwidth", "16", "--signed", "--little-endian", "-m", "m", "-b", "32", in, out).CombinedOutput(); err != nil {
		t.Fatalf("lame: %v\n%s", err, b)
	}
	mp3, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return "data:audio/mpeg;base64," + base64.StdEncoding.EncodeToString(mp3)
}

// tWriter sends log lines to the test log until the test ends.
type tWriter struct {
	t    *testing.T
	mu   *sync.Mutex
	done *bool
}

func newTWriter(t *testing.T) tWriter {
	w := tWriter{t: t, mu: new(sync.Mutex), done: new(bool)}
	t.Cleanup(func() { w.mu.Lock(); *w.done = true; w.mu.Unlock() })
	return w
}

func (w tWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !*w.done {
		w.t.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

func newAgent(t *testing.T, rt *voiceflowtest.Runtime, cfg Config) *Agent {
	t.Helper()
	cfg.Runtime, cfg.APIKey, cfg.VersionID = rt.URL, testKey, "development"
	if cfg.Synthesizer == nil {
		cfg.Synthesizer = fakeSynth{}
	}
	cfg.Logger = slog.New(slog.NewTextHandler(newTWriter(t), &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// A whole conversation: launch with the call's numbers, a greeting in
// Voiceflow's TTS audio (MP3) and in text, the caller says "sales", the
// twiml action forwards with <Dial><Sip>, the target is busy, the busy
// path apologises and ends.
func TestConversation(t *testing.T) {
	ctx := testContext(t)
	uri := mp3DataURI(t)
	dial := `<Response><Dial><Sip>sip:sales@pbx.example.com</Sip></Dial></Response>`
	dialJSON, _ := json.Marshal(dial)
	rt := voiceflowtest.New(t, testKey, "development", func(a voiceflowtest.Action) (int, string) {
		switch a.Type {
		case "launch":
			return 200, voiceflowtest.Traces(`{"type":"speak","payload":{"type":"audio","src":"`+uri+`"}}`, voiceflowtest.Speak("Sales or support?"),
				`{"type":"choice","payload":{"buttons":[{"name":"sales"},{"name":"support"}]}}`)
		case "text":
			return 200, voiceflowtest.Traces(`{"type":"twiml","payload":` + string(dialJSON) + `,"defaultPath":0,"paths":[{"event":{"type":"done"}},{"event":{"type":"busy"}}]}`)
		case "busy":
			return 200, voiceflowtest.Traces(voiceflowtest.Speak("Sales is busy."), `{"type":"end"}`)
		}
		return 200, voiceflowtest.Traces(`{"type":"end"}`)
	})
	rec := &scriptedRecognizer{words: []string{"", "", "sales"}}
	var forwarded []string
	call := agenttest.New(
		agenttest.WithInfo(agent.Info{CallID: "vf@x", From: "sip:+15550100@carrier", To: "sip:+15550199@sipagent"}),
		agenttest.WithTransfer(func(_ context.Context, req agent.TransferRequest) (agent.TransferResult, error) {
			forwarded = append(forwarded, req.TwiML)
			return agent.TransferResult{Status: "busy", SIPCode: 486}, nil
		}))
	a := newAgent(t, rt, Config{Recognizer: rec, TTS: true})
	done := agenttest.Start(ctx, a, call)
	go talk(ctx, call)
	if err := agenttest.Result(ctx, done); err != nil {
		t.Fatal(err)
	}
	if want := []string{"launch", "text:sales", "busy"}; !slices.Equal(rt.Types(), want) {
		t.Errorf("runtime got %v, want %v", rt.Types(), want)
	}
	first := rt.Received()[0]
	var launch launchPayload
	_ = json.Unmarshal(first.Payload, &launch)
	if launch != (launchPayload{CallType: "inbound", UserNumber: "+15550100", AgentNumber: "+15550199"}) || !first.Config.TTS {
		t.Errorf("launch %+v config %+v", launch, first.Config)
	}
	if !strings.HasPrefix(first.User, "call-CA") {
		t.Errorf("user %q, want one per call", first.User)
	}
	if len(forwarded) != 1 || forwarded[0] != dial {
		t.Errorf("forwarded %q, want the twiml action's document", forwarded)
	}
	if len(rec.hints) < 3 || !slices.Equal(rec.hints[0], []string{"sales", "support"}) || !slices.Equal(rec.hints[2], rec.hints[0]) {
		t.Errorf("recognizer hints %v, want the choice buttons", rec.hints)
	}
	// The MP3 (a second), then the two texts; nothing cut short.
	played := call.Snapshot().Played
	tone := len(played) - len("Sales or support?") - len("Sales is busy.")
	if tone < 7500 || tone > 9500 {
		t.Errorf("played %d samples of the MP3 greeting, want about 8000", tone)
	}
}

// A DTMF action collects a key and resumes along the path named for it.
func TestDTMFAction(t *testing.T) {
	ctx := testContext(t)
	rt := voiceflowtest.New(t, testKey, "development", func(a voiceflowtest.Action) (int, string) {
		if a.Type == "launch" {
			return 200, voiceflowtest.Traces(voiceflowtest.Speak("Press 1 or 2."), `{"type":"DTMF","payload":"","defaultPath":0,"paths":[{"event":{"type":"DTMF 1"}},{"event":{"type":"DTMF 2"}}]}`)
		}
		return 200, voiceflowtest.Traces(`{"type":"end"}`)
	})
	call := agenttest.New(agenttest.WithInfo(agent.Info{CallID: "d@x"}))
	a := newAgent(t, rt, Config{})
	done := agenttest.Start(ctx, a, call)
	if err := call.Press(ctx, "2"); err != nil {
		t.Fatal(err)
	}
	if err := agenttest.Result(ctx, done); err != nil {
		t.Fatal(err)
	}
	if want := []string{"launch", "DTMF 2"}; !slices.Equal(rt.Types(), want) {
		t.Errorf("runtime got %v, want %v", rt.Types(), want)
	}
}

// Silence past NoInput sends the no-input event.
func TestNoInput(t *testing.T) {
	ctx := testContext(t)
	rt := voiceflowtest.New(t, testKey, "development", func(a voiceflowtest.Action) (int, string) {
		if a.Type == "launch" {
			return 200, voiceflowtest.Traces(voiceflowtest.Speak("Hello?"))
		}
		return 200, voiceflowtest.Traces(`{"type":"end"}`)
	})
	call := agenttest.New(agenttest.WithInfo(agent.Info{CallID: "n@x"}))
	a := newAgent(t, rt, Config{NoInput: 300 * time.Millisecond})
	if err := agenttest.Result(ctx, agenttest.Start(ctx, a, call)); err != nil {
		t.Fatal(err)
	}
	if want := []string{"launch", "no-reply"}; !slices.Equal(rt.Types(), want) {
		t.Errorf("runtime got %v, want %v", rt.Types(), want)
	}
}

// forward-call goes to the configured template with the number; a
// number that is not one takes the failure path and dials nothing.
func TestForwardCall(t *testing.T) {
	for _, tt := range []struct {
		number, wantTarget string
		wantActions        []string
	}{
		{"+15550100", "sip:+15550100@trunk.example.com", []string{"launch"}},
		{"evil@elsewhere.example.com", "", []string{"launch", "failed"}},
	} {
		ctx := testContext(t)
		body, _ := json.Marshal(`{"number":"` + tt.number + `"}`)
		rt := voiceflowtest.New(t, testKey, "development", func(a voiceflowtest.Action) (int, string) {
			if a.Type == "launch" {
				return 200, voiceflowtest.Traces(`{"type":"forward-call","payload":` + string(body) + `,"defaultPath":0,"paths":[{"event":{"type":"failed"}}]}`)
			}
			return 200, voiceflowtest.Traces(`{"type":"end"}`)
		})
		var targets []string
		call := agenttest.New(agenttest.WithInfo(agent.Info{CallID: "f@x"}),
			agenttest.WithTransfer(func(_ context.Context, req agent.TransferRequest) (agent.TransferResult, error) {
				targets = append(targets, req.Target)
				return agent.TransferResult{Status: "completed", SIPCode: 200}, nil
			}))
		a := newAgent(t, rt, Config{ForwardTo: "sip:{number}@trunk.example.com"})
		if err := agenttest.Result(ctx, agenttest.Start(ctx, a, call)); err != nil {
			t.Fatal(err)
		}
		if tt.wantTarget == "" && len(targets) != 0 || tt.wantTarget != "" && !slices.Equal(targets, []string{tt.wantTarget}) {
			t.Errorf("%s: forwarded to %v, want %q", tt.number, targets, tt.wantTarget)
		}
		if !slices.Equal(rt.Types(), tt.wantActions) {
			t.Errorf("%s: runtime got %v, want %v", tt.number, rt.Types(), tt.wantActions)
		}
	}
}

// A runtime that fails (5xx, 401, nonsense) gets the apology and the
// fallback agent, never silence.
func TestRuntimeFailure(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		body   string
	}{
		{"server error", 500, `{"message":"boom"}`},
		{"not traces", 200, `{"oops":true}`},
		{"trace without type", 200, `[{"payload":{}}]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			rt := voiceflowtest.New(t, testKey, "development", func(voiceflowtest.Action) (int, string) { return tt.status, tt.body })
			ran := make(chan struct{})
			fallback := agent.AgentFunc(func(context.Context, agent.Call) error { close(ran); return nil })
			call := agenttest.New(agenttest.WithInfo(agent.Info{CallID: "e@x"}))
			a := newAgent(t, rt, Config{Fallback: fallback, Apology: "Sorry."})
			if err := agenttest.Result(ctx, agenttest.Start(ctx, a, call)); err != nil {
				t.Fatal(err)
			}
			select {
			case <-ran:
			default:
				t.Error("fallback did not run")
			}
			if got := len(call.Snapshot().Played); got != len("Sorry.") {
				t.Errorf("played %d samples, want the apology", got)
			}
		})
	}
	// A wrong key is a failure too.
	ctx := testContext(t)
	rt := voiceflowtest.New(t, testKey, "development", func(voiceflowtest.Action) (int, string) { return 200, voiceflowtest.Traces(`{"type":"end"}`) })
	a, err := New(Config{Runtime: rt.URL, APIKey: "VF.DM.wrong", VersionID: "development", Synthesizer: fakeSynth{}})
	if err != nil {
		t.Fatal(err)
	}
	call := agenttest.New()
	if err := agenttest.Result(ctx, agenttest.Start(ctx, a, call)); err != nil {
		t.Fatal(err)
	}
	if got := len(call.Snapshot().Played); got == 0 {
		t.Error("no apology after a 401")
	}
}

func FuzzDecodeTraces(f *testing.F) {
	f.Add([]byte(`[{"type":"speak","payload":{"type":"message","message":"hi"}},{"type":"end"}]`))
	f.Add([]byte(`[{"type":"twiml","payload":"<Response/>","defaultPath":0,"paths":[{"event":{"type":"x"}}]}]`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, err := DecodeTraces(b)
		if err != nil {
			return
		}
		for _, tr := range ts {
			if tr.Type == "" {
				t.Fatal("a trace without a type was accepted")
			}
			_ = tr.text()
			_ = tr.pathFor("x")
		}
	})
}

// The caller talking over a prompt stops it at once, and what they said
// is the next request; after an interruption action turns barge-in off,
// prompts play whole.
func TestBargeIn(t *testing.T) {
	long := strings.Repeat("x", 3*8000) // three seconds of prompt
	for _, tt := range []struct {
		name     string
		wantCut  bool
		launchTr string
	}{
		{"on by default", true, voiceflowtest.Traces(voiceflowtest.Speak(long))},
		{"turned off", false, voiceflowtest.Traces(`{"type":"interruption","payload":"{\"allowInterrupts\":false}"}`)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			rt := voiceflowtest.New(t, testKey, "development", func(a voiceflowtest.Action) (int, string) {
				switch a.Type {
				case "launch":
					return 200, tt.launchTr
				case "continue":
					return 200, voiceflowtest.Traces(voiceflowtest.Speak(long))
				}
				return 200, voiceflowtest.Traces(`{"type":"end"}`)
			})
			rec := &scriptedRecognizer{words: []string{"support", "support"}}
			opts := []agenttest.Option{agenttest.WithInfo(agent.Info{CallID: "b@x"})}
			if tt.wantCut {
				// The prompt cannot finish before the caller speaks: it
				// is played only when the test says so, and it never does.
				opts = append(opts, agenttest.WithManualPlayout())
			}
			call := agenttest.New(opts...)
			a := newAgent(t, rt, Config{Recognizer: rec})
			done := agenttest.Start(ctx, a, call)
			go talk(ctx, call)
			if err := agenttest.Result(ctx, done); err != nil {
				t.Fatal(err)
			}
			acts := rt.Types()
			if got := acts[len(acts)-1]; got != "text:support" {
				t.Errorf("runtime got %v, want the caller's words last", acts)
			}
			if rec := call.Snapshot(); tt.wantCut && rec.Clears == 0 {
				t.Error("the prompt was not cut short")
			} else if !tt.wantCut && (rec.Clears != 0 || len(rec.Played) < len(long)) {
				t.Errorf("the prompt was cut (%d of %d samples, %d clears) with barge-in off", len(rec.Played), len(long), rec.Clears)
			}
		})
	}
}
