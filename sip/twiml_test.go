package sip_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/speech"
	"github.com/sipagent/sipagent/agent/twiml"
	"github.com/sipagent/sipagent/media/wav"
)

// webApp is a TwiML application on a real HTTP server; it records the
// requests sipagent makes.
type webApp struct {
	srv    *httptest.Server
	docs   map[string]string
	files  map[string][]byte
	mu     sync.Mutex
	visits []webVisit
}

type webVisit struct {
	path   string
	params url.Values
}

func newWebApp(t *testing.T, docs map[string]string, files map[string][]byte) *webApp {
	w := &webApp{docs: docs, files: files}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if b, ok := w.files[r.URL.Path]; ok {
			_, _ = rw.Write(b)
			return
		}
		_ = r.ParseForm()
		w.mu.Lock()
		w.visits = append(w.visits, webVisit{path: r.URL.Path, params: r.Form})
		w.mu.Unlock()
		doc, ok := w.docs[r.URL.Path]
		if !ok {
			http.Error(rw, "not found", http.StatusNotFound)
			return
		}
		rw.Header().Set("Content-Type", "text/xml")
		_, _ = rw.Write([]byte(doc))
	}))
	t.Cleanup(w.srv.Close)
	return w
}

func (w *webApp) seen() []webVisit {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.visits)
}

// A TwiML application drives a real call end to end: it says a welcome
// (espeak-ng), plays a greeting inside a <Gather>, gets the digit the caller (sipp) presses, forwards
// the call with <Dial><Sip> to a sipp target that answers and hangs up,
// hears DialCallStatus=completed, redirects, and hangs up the caller.
func TestTwiMLApplicationCall(t *testing.T) {
	target := sippTarget(t, "uas_answer_bye.xml")
	var greeting bytes.Buffer
	if err := wav.Encode(&greeting, testSignal()[:samples(time.Second)], 8000); err != nil {
		t.Fatal(err)
	}
	app := newWebApp(t, map[string]string{
		"/voice": `<Response><Say>Welcome.</Say><Gather numDigits="1" timeout="10" action="/menu"><Play>/greeting.wav</Play></Gather><Hangup/></Response>`,
		"/menu":  `<Response><Dial action="/after"><Sip>` + target + `</Sip></Dial></Response>`,
		"/after": `<Response><Redirect>/bye</Redirect></Response>`,
		"/bye":   `<Response><Hangup/></Response>`,
	}, map[string][]byte{"/greeting.wav": greeting.Bytes()})
	es, err := speech.NewEspeak()
	if err != nil {
		t.Fatalf("espeak-ng: %v (run `make deps`)", err)
	}
	ag, err := twiml.New(twiml.Config{URL: app.srv.URL + "/voice", Synthesizer: es, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, map[string]agent.Agent{"app": ag}, withTransfer(t, "sip:sales@127.0.0.1"))
	if out, err := runSipp(t, srv, sippRun{Scenario: "uac_dtmf.xml", User: "app"}); err != nil {
		t.Fatalf("caller: %v\n%s", err, out)
	}
	waitIdle(t, srv)

	visits := app.seen()
	var paths []string
	for _, v := range visits {
		paths = append(paths, v.path)
	}
	if want := []string{"/voice", "/menu", "/after", "/bye"}; !slices.Equal(paths, want) {
		t.Fatalf("the application saw %v, want %v", paths, want)
	}
	if got := visits[0].params.Get("CallStatus"); got != "ringing" {
		t.Errorf("first request CallStatus = %q, want ringing", got)
	}
	if got := visits[1].params.Get("Digits"); got != "3" {
		t.Errorf("Digits = %q, want 3 (the key sipp pressed)", got)
	}
	if got := visits[2].params.Get("DialCallStatus"); got != "completed" {
		t.Errorf("DialCallStatus = %q, want completed", got)
	}
}
