package api

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/sip"
	"github.com/sipagent/sipagent/transfer"
)

const (
	testAccount = "AC0123456789abcdef0123456789abcdef"
	testToken   = "s3cret-token-never-logged"
)

// fakeControl is a SIP server without SIP: calls are records, and
// dialling does what the test says.
type fakeControl struct {
	mu      sync.Mutex
	calls   map[string]*fakeCall // by SID
	clients map[string]bool      // registered users
	dials   []dialCall
	// dialed gets every DialURI call, for tests that wait for one.
	dialed chan dialCall
	// dialURI, if set, is what DialURI does after recording the call;
	// the default answers at once.
	dialURI func(ctx context.Context, req sip.DialRequest) (string, error)
}

type dialCall struct {
	req sip.DialRequest
	ag  agent.Agent
}

func newFakeControl() *fakeControl {
	return &fakeControl{calls: map[string]*fakeCall{}, clients: map[string]bool{}, dialed: make(chan dialCall, 16)}
}

func (f *fakeControl) add(c *fakeCall) *fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[c.st.Sid] = c
	return c
}

func (f *fakeControl) Calls() []sip.CallStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]sip.CallStatus, 0, len(f.calls))
	for _, c := range f.calls {
		out = append(out, c.status())
	}
	return out
}

// CallBySid has no *sip.Call to give: the API finds the fake's calls
// through liveCall.
func (f *fakeControl) CallBySid(string) *sip.Call { return nil }

func (f *fakeControl) liveCall(sid string) liveCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.calls[sid]; ok {
		return c
	}
	return nil
}

func (f *fakeControl) DialURI(ctx context.Context, req sip.DialRequest, ag agent.Agent) (string, error) {
	d := dialCall{req: req, ag: ag}
	f.mu.Lock()
	f.dials = append(f.dials, d)
	dial := f.dialURI
	f.mu.Unlock()
	f.dialed <- d
	if dial != nil {
		return dial(ctx, req)
	}
	return req.CallID, nil
}

func (f *fakeControl) Registered(user string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.clients[user]
}

func (f *fakeControl) dialCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.dials)
}

// fakeCall is a live call that records what the API does to it.
type fakeCall struct {
	st sip.CallStatus

	mu        sync.Mutex
	answered  bool
	ended     bool // Redirect fails with sip.ErrCallEnded
	hangups   []string
	redirects []agent.Agent
}

func (c *fakeCall) status() sip.CallStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.st
	st.Status = "ringing"
	if c.answered {
		st.Status = "in-progress"
	}
	return st
}

func (c *fakeCall) Redirect(ag agent.Agent) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return sip.ErrCallEnded
	}
	c.redirects = append(c.redirects, ag)
	return nil
}

func (c *fakeCall) Hangup(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hangups = append(c.hangups, reason)
}

func (c *fakeCall) Answered() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.answered
}

func (c *fakeCall) record() (hangups []string, redirects []agent.Agent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.hangups...), append([]agent.Agent(nil), c.redirects...)
}

// inboundCall is a call that came in, answered or ringing.
func inboundCall(callID string, answered bool, start time.Time) *fakeCall {
	return &fakeCall{answered: answered, st: sip.CallStatus{
		Sid: agent.Info{CallID: callID}.CallSid(), CallID: callID,
		From: "sip:+15550100@pbx.example.com", To: "sip:agent@sipagent.example.com",
		Direction: "inbound", Start: start,
	}}
}

type testOpt func(*Config)

func withPolicy(t *testing.T, patterns ...string) testOpt {
	p, err := transfer.NewPolicy(patterns)
	if err != nil {
		t.Fatal(err)
	}
	return func(c *Config) { c.Policy = p }
}

// logBuffer collects an API's log lines, for tests that look at them.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func withLog(l *logBuffer) testOpt {
	return func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
}

// newTestAPI builds an API over calls, closed at test end.
func newTestAPI(t *testing.T, calls CallControl, opts ...testOpt) *API {
	t.Helper()
	cfg := Config{AccountSid: testAccount, AuthToken: testToken, Calls: calls}
	for _, o := range opts {
		o(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a
}

const callsPath = "/2010-04-01/Accounts/" + testAccount + "/Calls"

func callPath(sid string) string { return callsPath + "/" + sid + ".json" }

// do sends one authenticated request to h; form, if not nil, is the
// POST body.
func do(t *testing.T, h http.Handler, method, path string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.SetBasicAuth(testAccount, testToken)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// decode reads rec's JSON body as a T, after checking its status.
func decode[T any](t *testing.T, rec *httptest.ResponseRecorder, status int) T {
	t.Helper()
	var v T
	if rec.Code != status {
		t.Fatalf("status %d, want %d: %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("%v: %s", err, rec.Body)
	}
	return v
}

// wantError checks that rec is a Twilio error with status and code.
func wantError(t *testing.T, rec *httptest.ResponseRecorder, status, code int) Error {
	t.Helper()
	e := decode[Error](t, rec, status)
	if e.Status != status || e.Code != code || e.Message == "" {
		t.Errorf("error %+v, want status %d code %d", e, status, code)
	}
	return e
}

// waitDial waits for the fake's next DialURI call.
func waitDial(t *testing.T, f *fakeControl) dialCall {
	t.Helper()
	select {
	case d := <-f.dialed:
		return d
	case <-time.After(10 * time.Second):
		t.Fatal("DialURI was not called")
		return dialCall{}
	}
}
