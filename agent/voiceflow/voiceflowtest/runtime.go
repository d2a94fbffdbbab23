// Package voiceflowtest provides a stand-in for Voiceflow's hosted Dialog
// Manager runtime, for tests: an HTTP server that speaks the documented
// API (POST /state/user/{userID}/interact with the Authorization and
// versionID headers, {"action", "config"} in, a JSON array of traces out)
// and answers each action from the test's script. The hosted service
// cannot be reached from CI; this speaks its protocol exactly instead.
package voiceflowtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Action is one request the runtime received.
type Action struct {
	User    string          // the {userID} of the path
	Type    string          // launch, text, a path's event type...
	Payload json.RawMessage // as sent
	Config  Config
}

// Config is the request's config object.
type Config struct {
	TTS          bool     `json:"tts"`
	StripSSML    bool     `json:"stripSSML"`
	StopAll      bool     `json:"stopAll"`
	ExcludeTypes []string `json:"excludeTypes"`
}

// Script answers an action with an HTTP status and a body (normally a
// JSON array of traces; see Traces).
type Script func(a Action) (status int, body string)

// Runtime is the stand-in runtime.
type Runtime struct {
	URL string // the base URL to configure the agent with

	key, version string
	script       Script
	mu           sync.Mutex
	received     []Action
}

// New starts a runtime that accepts key and versionID version (others get
// 401) and answers from script. It stops when the test ends.
func New(t testing.TB, key, version string, script Script) *Runtime {
	r := &Runtime{key: key, version: version, script: script}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /state/user/{user}/interact", r.interact)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

func (r *Runtime) interact(w http.ResponseWriter, req *http.Request) {
	if req.Header.Get("Authorization") != r.key || req.Header.Get("versionID") != r.version {
		http.Error(w, `{"message":"unauthorized"}`, http.StatusUnauthorized)
		return
	}
	b, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		http.Error(w, `{"message":"bad request"}`, http.StatusBadRequest)
		return
	}
	var body struct {
		Action struct {
			Type    string          `json:"type"`
			Payload json.RawMessage `json:"payload"`
		} `json:"action"`
		Config Config `json:"config"`
	}
	if err := json.Unmarshal(b, &body); err != nil || body.Action.Type == "" {
		http.Error(w, `{"message":"bad request"}`, http.StatusBadRequest)
		return
	}
	a := Action{User: req.PathValue("user"), Type: body.Action.Type, Payload: body.Action.Payload, Config: body.Config}
	r.mu.Lock()
	r.received = append(r.received, a)
	r.mu.Unlock()
	status, traces := r.script(a)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, traces)
}

// Received returns the actions received so far.
func (r *Runtime) Received() []Action {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Action(nil), r.received...)
}

// Types returns the received actions' types, a text action as
// "text:WORDS".
func (r *Runtime) Types() []string {
	var out []string
	for _, a := range r.Received() {
		s := a.Type
		if a.Type == "text" {
			var p string
			_ = json.Unmarshal(a.Payload, &p)
			s += ":" + p
		}
		out = append(out, s)
	}
	return out
}

// Traces joins traces (JSON objects) into a response body.
func Traces(ts ...string) string { return "[" + strings.Join(ts, ",") + "]" }

// Speak is a speak trace with text only.
func Speak(msg string) string {
	b, _ := json.Marshal(msg)
	return `{"type":"speak","payload":{"type":"message","message":` + string(b) + `}}`
}

// SpeakAudio is a speak trace with audio (a data: URI or URL) and text.
func SpeakAudio(src, msg string) string {
	s, _ := json.Marshal(src)
	m, _ := json.Marshal(msg)
	return `{"type":"speak","payload":{"type":"audio","src":` + string(s) + `,"message":` + string(m) + `}}`
}

// CustomAction is a custom action trace with body as its payload string and
// paths named by events, the first the default.
func CustomAction(name, body string, events ...string) string {
	b, _ := json.Marshal(body)
	var paths []string
	for _, e := range events {
		ej, _ := json.Marshal(e)
		paths = append(paths, `{"event":{"type":`+string(ej)+`}}`)
	}
	nj, _ := json.Marshal(name)
	return `{"type":` + string(nj) + `,"payload":` + string(b) + `,"defaultPath":0,"paths":[` + strings.Join(paths, ",") + `]}`
}

// End is the end trace.
const End = `{"type":"end"}`
