package api

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestNewChecksConfig(t *testing.T) {
	calls := newFakeControl()
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no token", Config{AccountSid: testAccount, Calls: calls}, "AuthToken"},
		{"no account", Config{AuthToken: testToken, Calls: calls}, "AccountSid"},
		{"account with a colon", Config{AccountSid: "AC:1", AuthToken: testToken, Calls: calls}, "AccountSid"},
		{"account with a slash", Config{AccountSid: "AC/1", AuthToken: testToken, Calls: calls}, "AccountSid"},
		{"no calls", Config{AccountSid: testAccount, AuthToken: testToken}, "Calls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := New(tt.cfg)
			if err == nil {
				_ = a.Close()
				t.Fatal("New accepted the configuration")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %s", err, tt.want)
			}
		})
	}
}

// Every request needs the account's credentials; the path must name the
// account they belong to.
func TestAuth(t *testing.T) {
	var logs logBuffer
	h := newTestAPI(t, newFakeControl(), withLog(&logs)).Handler()
	tests := []struct {
		name        string
		path        string
		user, token string
		noAuth      bool
		status      int
	}{
		{"no credentials", callsPath + ".json", "", "", true, http.StatusUnauthorized},
		{"wrong token", callsPath + ".json", testAccount, "wrong", false, http.StatusUnauthorized},
		{"token as a prefix", callsPath + ".json", testAccount, testToken[:5], false, http.StatusUnauthorized},
		{"wrong user", callsPath + ".json", "AC1", testToken, false, http.StatusUnauthorized},
		{"unknown path without credentials", "/nothing", "", "", true, http.StatusUnauthorized},
		{"another account", "/2010-04-01/Accounts/AC1/Calls.json", testAccount, testToken, false, http.StatusNotFound},
		{"another account's call", "/2010-04-01/Accounts/AC1/Calls/CA1.json", testAccount, testToken, false, http.StatusNotFound},
		{"unknown path", "/2010-04-01/Accounts/" + testAccount + "/Queues.json", testAccount, testToken, false, http.StatusNotFound},
		{"good", callsPath + ".json", testAccount, testToken, false, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tt.path, nil)
			if !tt.noAuth {
				req.SetBasicAuth(tt.user, tt.token)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			switch tt.status {
			case http.StatusUnauthorized:
				wantError(t, rec, tt.status, codeAuth)
				if got := rec.Header().Get("WWW-Authenticate"); got != `Basic realm="sipagent"` {
					t.Errorf("WWW-Authenticate %q", got)
				}
			case http.StatusNotFound:
				wantError(t, rec, tt.status, codeNotFound)
			default:
				if rec.Code != tt.status {
					t.Errorf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
				}
			}
		})
	}
	if strings.Contains(logs.String(), testToken) {
		t.Errorf("the auth token reached the log:\n%s", logs.String())
	}
}

func TestMethodNotAllowed(t *testing.T) {
	h := newTestAPI(t, newFakeControl()).Handler()
	for _, path := range []string{callsPath + ".json", callPath("CA1")} {
		for _, m := range []string{http.MethodDelete, http.MethodPut, http.MethodPatch} {
			rec := do(t, h, m, path, nil)
			wantError(t, rec, http.StatusMethodNotAllowed, codeMethod)
			if got := rec.Header().Get("Allow"); got != "GET, POST" {
				t.Errorf("%s %s: Allow %q", m, path, got)
			}
		}
	}
}

// Bodies are bounded: a Twiml document of megabytes is refused unread.
func TestBodyLimit(t *testing.T) {
	calls := newFakeControl()
	c := calls.add(inboundCall("big", true, testStart))
	h := newTestAPI(t, calls).Handler()
	form := url.Values{"Twiml": {"<Response>" + strings.Repeat("<Pause/>", maxBody/8) + "</Response>"}}
	wantError(t, do(t, h, http.MethodPost, callPath(c.st.Sid), form), http.StatusRequestEntityTooLarge, codeRequestTooLarge)
	if _, redirects := c.record(); len(redirects) != 0 {
		t.Errorf("redirected with a body over the limit")
	}
}
