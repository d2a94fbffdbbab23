package api

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/twiml"
)

const hangupTwiML = `<Response><Hangup/></Response>`

func TestUpdateRedirects(t *testing.T) {
	tests := []struct {
		name string
		form url.Values
	}{
		{"twiml", url.Values{"Twiml": {hangupTwiML}}},
		{"url", url.Values{"Url": {"https://app.example.com/next"}}},
		{"url with GET", url.Values{"Url": {"http://app.example.com/next?x=1"}, "Method": {"get"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := newFakeControl()
			c := calls.add(inboundCall("redirect", true, testStart))
			h := newTestAPI(t, calls).Handler()
			res := decode[CallResource](t, do(t, h, http.MethodPost, callPath(c.st.Sid), tt.form), http.StatusOK)
			if res.Sid != c.st.Sid || res.Status != "in-progress" {
				t.Errorf("call %+v", res)
			}
			hangups, redirects := c.record()
			if len(redirects) != 1 || len(hangups) != 0 {
				t.Fatalf("redirects %v, hangups %v", redirects, hangups)
			}
			if _, ok := redirects[0].(*twiml.Agent); !ok {
				t.Errorf("redirected to %T, want a TwiML agent", redirects[0])
			}
		})
	}
}

// Nothing happens to the call when the request is wrong.
func TestUpdateBadRequests(t *testing.T) {
	tests := []struct {
		name string
		form url.Values
		code int
	}{
		{"nothing", url.Values{}, codeCallsResource},
		{"twiml and url", url.Values{"Twiml": {hangupTwiML}, "Url": {"https://app.example.com/"}}, codeCallsResource},
		{"twiml and status", url.Values{"Twiml": {hangupTwiML}, "Status": {"completed"}}, codeCallsResource},
		{"bad status", url.Values{"Status": {"in-progress"}}, codeCallsResource},
		{"not xml", url.Values{"Twiml": {"hang up please"}}, codeTwiMLParse},
		{"empty twiml", url.Values{"Twiml": {""}}, codeTwiMLParse},
		{"unknown verb", url.Values{"Twiml": {"<Response><Dance/></Response>"}}, codeTwiMLParse},
		{"not a response", url.Values{"Twiml": {"<Hangup/>"}}, codeTwiMLParse},
		{"relative url", url.Values{"Url": {"/next"}}, codeBadURL},
		{"ftp url", url.Values{"Url": {"ftp://app.example.com/next"}}, codeBadURL},
		{"empty url", url.Values{"Url": {""}}, codeBadURL},
		{"bad method", url.Values{"Url": {"https://app.example.com/"}, "Method": {"PUT"}}, codeCallsResource},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := newFakeControl()
			c := calls.add(inboundCall("bad", true, testStart))
			h := newTestAPI(t, calls).Handler()
			wantError(t, do(t, h, http.MethodPost, callPath(c.st.Sid), tt.form), http.StatusBadRequest, tt.code)
			if hangups, redirects := c.record(); len(hangups)+len(redirects) != 0 {
				t.Errorf("the call was touched: hangups %v, redirects %v", hangups, redirects)
			}
		})
	}
}

func TestUpdateStatus(t *testing.T) {
	tests := []struct {
		name        string
		answered    bool
		status      string
		wantHangups []string
		wantStatus  string
	}{
		{"completed ends a call in progress", true, "completed", []string{"api"}, "completed"},
		{"completed ends a ringing call", false, "completed", []string{"api"}, "canceled"},
		{"canceled ends a ringing call", false, "canceled", []string{"api"}, "canceled"},
		// As Twilio's: canceled only stops calls not yet answered.
		{"canceled leaves a call in progress", true, "canceled", nil, "in-progress"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := newFakeControl()
			c := calls.add(inboundCall("status", tt.answered, testStart))
			h := newTestAPI(t, calls).Handler()
			form := url.Values{"Status": {tt.status}}
			res := decode[CallResource](t, do(t, h, http.MethodPost, callPath(c.st.Sid), form), http.StatusOK)
			if res.Status != tt.wantStatus {
				t.Errorf("status %q, want %q", res.Status, tt.wantStatus)
			}
			if hangups, _ := c.record(); !slices.Equal(hangups, tt.wantHangups) {
				t.Errorf("hangups %q, want %q", hangups, tt.wantHangups)
			}
		})
	}
}

func TestUpdateUnknownOrEndedCall(t *testing.T) {
	calls := newFakeControl()
	ended := calls.add(inboundCall("ended", true, testStart))
	ended.ended = true
	h := newTestAPI(t, calls).Handler()
	form := url.Values{"Twiml": {hangupTwiML}}
	wantError(t, do(t, h, http.MethodPost, callPath("CA00000000000000000000000000000000"), form), http.StatusNotFound, codeNotFound)
	wantError(t, do(t, h, http.MethodPost, callsPath+"/"+ended.st.Sid, form), http.StatusNotFound, codeNotFound)
	wantError(t, do(t, h, http.MethodPost, callPath(ended.st.Sid), form), http.StatusBadRequest, codeCallState)
}

// Agent=NAME, sipagent's extension, hands the call to a configured
// agent; a name not configured is refused and the call is left alone.
func TestUpdateToConfiguredAgent(t *testing.T) {
	menu := agent.AgentFunc(func(context.Context, agent.Call) error { return nil })
	withAgents := func(c *Config) { c.Agents = map[string]agent.Agent{"menu": menu} }
	calls := newFakeControl()
	c := calls.add(inboundCall("to-agent", true, testStart))
	h := newTestAPI(t, calls, withAgents).Handler()
	decode[CallResource](t, do(t, h, http.MethodPost, callPath(c.st.Sid), url.Values{"Agent": {"menu"}}), http.StatusOK)
	decode[Error](t, do(t, h, http.MethodPost, callPath(c.st.Sid), url.Values{"Agent": {"nobody"}}), http.StatusBadRequest)
	decode[Error](t, do(t, h, http.MethodPost, callPath(c.st.Sid), url.Values{"Agent": {"menu"}, "Twiml": {hangupTwiML}}), http.StatusBadRequest)
	_, redirects := c.record()
	if len(redirects) != 1 {
		t.Fatalf("%d redirects, want 1 (to the configured agent)", len(redirects))
	}
	if _, ok := redirects[0].(agent.AgentFunc); !ok {
		t.Errorf("redirected to %T, want the configured agent", redirects[0])
	}
}
