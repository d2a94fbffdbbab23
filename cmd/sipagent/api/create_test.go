package api

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/twiml"
	"github.com/sipagent/sipagent/sip"
)

func createForm(to string, kv ...string) url.Values {
	form := url.Values{"To": {to}, "Twiml": {hangupTwiML}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			form.Del(kv[i])
		} else {
			form.Set(kv[i], kv[i+1])
		}
	}
	return form
}

// The SID of a created call is known at once: it is derived from the
// Call-ID the API chose and handed to DialURI.
func TestCreateSIP(t *testing.T) {
	calls := newFakeControl()
	a := newTestAPI(t, calls, withPolicy(t, "pbx.example.com"))
	form := createForm("sip:bob@pbx.example.com;transport=tcp?X-Ticket=42",
		"From", "+15550100", "Timeout", "20", "SipAuthUsername", "agent", "SipAuthPassword", "pw")
	res := decode[CallResource](t, do(t, a.Handler(), http.MethodPost, callsPath+".json", form), http.StatusCreated)

	d := waitDial(t, calls)
	if d.req.CallID == "" {
		t.Fatal("DialURI got no Call-ID")
	}
	if want := (agent.Info{CallID: d.req.CallID}).CallSid(); res.Sid != want {
		t.Errorf("sid %q, want %q (from Call-ID %q)", res.Sid, want, d.req.CallID)
	}
	if res.Status != "queued" || res.Direction != "outbound-api" || res.From != "+15550100" ||
		res.To != "sip:bob@pbx.example.com;transport=tcp" || res.StartTime != nil || res.URI != callPath(res.Sid) {
		t.Errorf("call %+v", res)
	}
	r := d.req
	if r.URI.User != "bob" || r.URI.Host != "pbx.example.com" || r.Transport != "tcp" || r.CallerID != "+15550100" ||
		r.Timeout != 20*time.Second || r.Direction != "outbound-api" || r.Username != "agent" || r.Password != "pw" ||
		len(r.Headers) != 1 || r.Headers[0] != (agent.Header{Name: "X-Ticket", Value: "42"}) || r.Progress == nil {
		t.Errorf("dial request %+v", r)
	}
	dd, ok := d.ag.(*dialing)
	if !ok {
		t.Fatalf("dialled with %T", d.ag)
	}
	if _, ok := dd.next.(*twiml.Agent); !ok {
		t.Errorf("the call would run %T, want a TwiML agent", dd.next)
	}
	_ = a.Close() // waits for the dial goroutine
}

func TestCreateDefaults(t *testing.T) {
	calls := newFakeControl()
	a := newTestAPI(t, calls, withPolicy(t, "pbx.example.com"))
	form := createForm("sip:pbx.example.com", "Twiml", "", "Url", "https://app.example.com/voice")
	res := decode[CallResource](t, do(t, a.Handler(), http.MethodPost, callsPath+".json", form), http.StatusCreated)
	r := waitDial(t, calls).req
	if r.Timeout != 30*time.Second || r.CallerID != "" || r.Transport != "udp" || res.From != "sipagent" {
		t.Errorf("dial request %+v, call %+v", r, res)
	}
}

// A call may go only where the allow-list lets it: nothing is dialled.
func TestCreateOutsidePolicy(t *testing.T) {
	for _, patterns := range [][]string{nil, {"pbx.example.com"}} {
		calls := newFakeControl()
		var logs logBuffer
		a := newTestAPI(t, calls, withPolicy(t, patterns...), withLog(&logs))
		form := createForm("sip:+15550100@premium.example.net")
		e := wantError(t, do(t, a.Handler(), http.MethodPost, callsPath+".json", form), http.StatusForbidden, codeNotPermitted)
		if !strings.Contains(e.Message, "sip:+15550100@premium.example.net") || !strings.Contains(e.Message, "transfer.allow") {
			t.Errorf("message %q does not say what was refused and why", e.Message)
		}
		_ = a.Close()
		if n := calls.dialCount(); n != 0 {
			t.Errorf("policy %v: %d calls dialled", patterns, n)
		}
		if !strings.Contains(logs.String(), "not allowed") {
			t.Errorf("the refusal was not logged:\n%s", logs.String())
		}
	}
	// Without any policy at all, too.
	calls := newFakeControl()
	a := newTestAPI(t, calls)
	wantError(t, do(t, a.Handler(), http.MethodPost, callsPath+".json", createForm("sip:bob@pbx.example.com")), http.StatusForbidden, codeNotPermitted)
	_ = a.Close()
	if n := calls.dialCount(); n != 0 {
		t.Errorf("no policy: %d calls dialled", n)
	}
}

func TestCreateBadRequests(t *testing.T) {
	tests := []struct {
		name string
		form url.Values
		code int
	}{
		{"no To", createForm(""), codeNoTo},
		{"phone number", createForm("+15550100"), codeBadTo},
		{"tel URI", createForm("tel:+15550100"), codeBadTo},
		{"bad sip URI", createForm("sip:bob@pbx.example.com;maddr=evil.example.net"), codeBadTo},
		{"sip URI with a space", createForm("sip:bob @pbx.example.com"), codeBadTo},
		{"sips", createForm("sips:bob@pbx.example.com"), codeBadTo},
		{"secure", createForm("sip:bob@pbx.example.com;secure=true"), codeBadTo},
		{"empty client", createForm("client:"), codeBadTo},
		{"client with a space", createForm("client:a b"), codeBadTo},
		{"From with a space", createForm("sip:bob@pbx.example.com", "From", "a b"), codeBadFrom},
		{"From with CRLF", createForm("sip:bob@pbx.example.com", "From", "a\r\nX-Evil: 1"), codeBadFrom},
		{"From with NUL", createForm("sip:bob@pbx.example.com", "From", "\x00"), codeBadFrom},
		{"long From", createForm("sip:bob@pbx.example.com", "From", strings.Repeat("1", 65)), codeBadFrom},
		{"Timeout too short", createForm("sip:bob@pbx.example.com", "Timeout", "4"), codeCallsResource},
		{"Timeout too long", createForm("sip:bob@pbx.example.com", "Timeout", "601"), codeCallsResource},
		{"Timeout not a number", createForm("sip:bob@pbx.example.com", "Timeout", "30s"), codeCallsResource},
		{"no instructions", createForm("sip:bob@pbx.example.com", "Twiml", ""), codeCallsResource},
		{"Url and Twiml", createForm("sip:bob@pbx.example.com", "Url", "https://app.example.com/"), codeCallsResource},
		{"bad Twiml", createForm("sip:bob@pbx.example.com", "Twiml", "<Response><Dial>"), codeTwiMLParse},
		{"bad Url", createForm("sip:bob@pbx.example.com", "Twiml", "", "Url", "app.example.com/voice"), codeBadURL},
		{"bad Method", createForm("sip:bob@pbx.example.com", "Twiml", "", "Url", "https://app.example.com/", "Method", "DELETE"), codeCallsResource},
		{"SIP credentials for a client", createForm("client:alice", "SipAuthUsername", "u"), codeCallsResource},
		{"SIP password with CRLF", createForm("sip:bob@pbx.example.com", "SipAuthUsername", "u", "SipAuthPassword", "p\r\n"), codeCallsResource},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := newFakeControl()
			calls.clients["alice"] = true
			a := newTestAPI(t, calls, withPolicy(t, "pbx.example.com"))
			wantError(t, do(t, a.Handler(), http.MethodPost, callsPath+".json", tt.form), http.StatusBadRequest, tt.code)
			_ = a.Close()
			if n := calls.dialCount(); n != 0 || len(calls.Calls()) != 0 {
				t.Errorf("%d calls dialled, %d placed", n, len(calls.Calls()))
			}
		})
	}
}

// A call being dialled is listed and fetched as queued, then ringing,
// and Status=canceled stops the dial.
func TestCreateQueuedCallCanceled(t *testing.T) {
	calls := newFakeControl()
	returned := make(chan error, 1)
	calls.dialURI = func(ctx context.Context, _ sip.DialRequest) (string, error) {
		<-ctx.Done()
		returned <- ctx.Err()
		return "", &sip.DialError{Err: ctx.Err()}
	}
	var logs logBuffer
	a := newTestAPI(t, calls, withPolicy(t, "pbx.example.com"), withLog(&logs))
	h := a.Handler()
	res := decode[CallResource](t, do(t, h, http.MethodPost, callsPath+".json", createForm("sip:bob@pbx.example.com")), http.StatusCreated)
	d := waitDial(t, calls)

	got := decode[CallResource](t, do(t, h, http.MethodGet, callPath(res.Sid), nil), http.StatusOK)
	if got.Status != "queued" {
		t.Errorf("status %q, want queued", got.Status)
	}
	d.req.Progress(sip.Progress{Code: 180, Reason: "Ringing"})
	page := decode[CallPage](t, do(t, h, http.MethodGet, callsPath+".json?Status=ringing", nil), http.StatusOK)
	if len(page.Calls) != 1 || page.Calls[0].Sid != res.Sid {
		t.Errorf("ringing calls %+v", page.Calls)
	}

	got = decode[CallResource](t, do(t, h, http.MethodPost, callPath(res.Sid), url.Values{"Status": {"canceled"}}), http.StatusOK)
	if got.Status != "canceled" {
		t.Errorf("status %q, want canceled", got.Status)
	}
	select {
	case err := <-returned:
		if err != context.Canceled {
			t.Errorf("dial ended with %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the dial was not cancelled")
	}
	_ = a.Close() // waits for the dial goroutine, which forgets the call
	wantError(t, do(t, h, http.MethodGet, callPath(res.Sid), nil), http.StatusNotFound, codeNotFound)
	if !strings.Contains(logs.String(), "API call canceled") {
		t.Errorf("the cancellation was not logged:\n%s", logs.String())
	}
}

// New TwiML for a call still being dialled is what it runs once
// answered.
func TestCreateQueuedCallRedirected(t *testing.T) {
	calls := newFakeControl()
	calls.dialURI = func(ctx context.Context, _ sip.DialRequest) (string, error) {
		<-ctx.Done()
		return "", ctx.Err()
	}
	a := newTestAPI(t, calls, withPolicy(t, "pbx.example.com"))
	h := a.Handler()
	res := decode[CallResource](t, do(t, h, http.MethodPost, callsPath+".json", createForm("sip:bob@pbx.example.com")), http.StatusCreated)
	d := waitDial(t, calls).ag.(*dialing)
	d.mu.Lock()
	first := d.next
	d.mu.Unlock()
	form := url.Values{"Url": {"https://app.example.com/other"}}
	got := decode[CallResource](t, do(t, h, http.MethodPost, callPath(res.Sid), form), http.StatusOK)
	if got.Status != "queued" {
		t.Errorf("status %q", got.Status)
	}
	d.mu.Lock()
	next := d.next
	d.mu.Unlock()
	if next == first {
		t.Error("the queued call still runs its first TwiML")
	}
	_ = a.Close()
}

// Once a created call is answered, updates go to the live call; one
// that lands before is what Serve runs, and a cancel that wins the race
// with the answer hangs the call up at once.
func TestDialingAgent(t *testing.T) {
	ran := make(chan string, 3)
	named := func(name string) agent.Agent {
		return agent.AgentFunc(func(context.Context, agent.Call) error { ran <- name; return nil })
	}
	d := &dialing{next: named("first"), cancel: func() {}}
	if !d.redirect(named("second")) {
		t.Fatal("redirect refused before the answer")
	}
	_ = d.Serve(t.Context(), nil)
	if got := <-ran; got != "second" {
		t.Errorf("ran %q, want second", got)
	}
	if d.redirect(named("third")) || d.cancelDial() {
		t.Error("a started call took an update meant for the live call")
	}

	canceled := false
	d = &dialing{next: named("never"), cancel: func() { canceled = true }}
	if !d.cancelDial() || !canceled {
		t.Fatal("cancel refused before the answer")
	}
	if err := d.Serve(t.Context(), nil); err != nil || len(ran) != 0 {
		t.Errorf("a canceled call ran its agent (err %v)", err)
	}
}

// Close cancels the dials in flight and returns once they are done.
func TestCloseWaitsForDial(t *testing.T) {
	calls := newFakeControl()
	calls.clients["alice"] = true
	var finished bool // written by the dial goroutine, read after Close
	calls.dialURI = func(ctx context.Context, _ sip.DialRequest) (string, error) {
		<-ctx.Done()
		finished = true
		return "", ctx.Err()
	}
	a := newTestAPI(t, calls, withPolicy(t, "pbx.example.com"))
	h := a.Handler()
	decode[CallResource](t, do(t, h, http.MethodPost, callsPath+".json", createForm("sip:bob@pbx.example.com")), http.StatusCreated)
	waitDial(t, calls)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if !finished {
		t.Error("Close returned before the dial did")
	}
	if err := a.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	wantError(t, do(t, h, http.MethodPost, callsPath+".json", createForm("sip:bob@pbx.example.com")), http.StatusServiceUnavailable, codeUnavailable)
	wantError(t, do(t, h, http.MethodPost, callsPath+".json", createForm("client:alice")), http.StatusServiceUnavailable, codeUnavailable)
	if n := calls.dialCount(); n != 1 {
		t.Errorf("%d dials, want 1", n)
	}
}

// client:NAME calls a softphone registered to sipagent, queued like a
// sip: target; a user with no contact is 404 at once.
func TestCreateClient(t *testing.T) {
	calls := newFakeControl()
	calls.clients["alice"] = true
	a := newTestAPI(t, calls) // no policy: clients need none
	h := a.Handler()
	res := decode[CallResource](t, do(t, h, http.MethodPost, callsPath+".json", createForm("client:alice", "From", "desk")), http.StatusCreated)
	d := waitDial(t, calls)
	if want := (agent.Info{CallID: d.req.CallID}).CallSid(); res.Sid != want || res.Status != "queued" || res.To != "client:alice" || res.Direction != "outbound-api" {
		t.Errorf("call %+v, want sid %s queued", res, want)
	}
	if d.req.User != "alice" || d.req.CallerID != "desk" || d.req.URI.Host != "" {
		t.Errorf("dial request %+v, want the registered user alice from desk", d.req)
	}
	e := wantError(t, do(t, h, http.MethodPost, callsPath+".json", createForm("client:bob")), http.StatusNotFound, codeNotFound)
	if !strings.Contains(e.Message, "client:bob") {
		t.Errorf("message %q", e.Message)
	}
}
