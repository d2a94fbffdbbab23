package voiceflow

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeRuntime stands in for Voiceflow's hosted Dialog Manager runtime:
// it speaks the documented API (POST /state/user/{userID}/interact with
// Authorization and versionID headers, {"action", "config"} in, an array
// of traces out) and answers each action from a script.
type fakeRuntime struct {
	t      *testing.T
	srv    *httptest.Server
	answer func(a receivedAction) (status int, traces string)

	mu       sync.Mutex
	received []receivedAction
}

type receivedAction struct {
	User    string
	Type    string
	Payload json.RawMessage
	Config  requestConfig
}

const testKey = "VF.DM.test-key"

func newFakeRuntime(t *testing.T, answer func(a receivedAction) (int, string)) *fakeRuntime {
	f := &fakeRuntime{t: t, answer: answer}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /state/user/{user}/interact", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != testKey || r.Header.Get("versionID") != "development" {
			http.Error(w, `{"message":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var body struct {
			Action struct {
				Type    string          `json:"type"`
				Payload json.RawMessage `json:"payload"`
			} `json:"action"`
			Config requestConfig `json:"config"`
		}
		if err := json.Unmarshal(b, &body); err != nil || body.Action.Type == "" {
			http.Error(w, `{"message":"bad request"}`, http.StatusBadRequest)
			return
		}
		a := receivedAction{User: r.PathValue("user"), Type: body.Action.Type, Payload: body.Action.Payload, Config: body.Config}
		f.mu.Lock()
		f.received = append(f.received, a)
		f.mu.Unlock()
		status, traces := f.answer(a)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, traces)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// actions returns the action types received, with text payloads as
// "text:WORDS".
func (f *fakeRuntime) actions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, a := range f.received {
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

func (f *fakeRuntime) first() receivedAction {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.received[0]
}

// speakText is a speak trace carrying text only.
func speakText(msg string) string {
	b, _ := json.Marshal(msg)
	return `{"type":"speak","payload":{"type":"message","message":` + string(b) + `}}`
}

func traces(ts ...string) string { return "[" + strings.Join(ts, ",") + "]" }
