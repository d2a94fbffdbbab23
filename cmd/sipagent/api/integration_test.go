package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipagent/sipagent/sip/siptest"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/media"
	"github.com/sipagent/sipagent/sip"
)

// rtpLo-rtpHi is this package's RTP port range: below Linux's ephemeral
// range, and apart from the other packages' (media 21000s, sip
// 22000-23999, cmd/sipagent 24000s) so that `go test ./...` can run
// them in parallel.
const rtpLo, rtpHi = 25000, 25099

// A real call, placed by sipp into a real sip.Server, is seen and hung
// up through the API: listed and fetched in progress, then handed TwiML
// that hangs up, so that the caller gets sipagent's BYE and the call
// leaves the list.
func TestLiveCallThroughAPI(t *testing.T) {
	waiter := newWaiter()
	srv := startServer(t, waiter)
	a := newTestAPI(t, srv, withTestLogger(t))
	web := httptest.NewServer(a.Handler())
	t.Cleanup(web.Close)
	client := apiClient{t: t, base: web.URL, http: web.Client()}

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	sipp := startSipp(ctx, t, "uac_wait_bye.xml", freeUDPPort(t), "-s", "wait", srv.Addr("udp").String())
	select {
	case <-waiter.started:
	case <-sipp.done:
		t.Fatalf("sipp ended before the call reached the agent: %v\n%s", sipp.err, sipp.output())
	case <-ctx.Done():
		t.Fatal("the call did not reach the agent")
	}
	sid := waiter.info().CallSid()

	var page CallPage
	client.do(http.MethodGet, callsPath+".json", nil, http.StatusOK, &page)
	if len(page.Calls) != 1 {
		t.Fatalf("calls %+v, want the one sipp placed", page.Calls)
	}
	c := page.Calls[0]
	if c.Sid != sid || c.Status != "in-progress" || c.Direction != "inbound" || c.AccountSid != testAccount ||
		!strings.HasPrefix(c.From, "sip:sipp@") || c.StartTime == nil {
		t.Errorf("call %+v, want %s in progress, inbound", c, sid)
	}
	var fetched CallResource
	client.do(http.MethodGet, callPath(sid), nil, http.StatusOK, &fetched)
	if fetched.StartTime == nil || *fetched.StartTime != *c.StartTime {
		t.Errorf("fetched start_time %v, listed %q", fetched.StartTime, *c.StartTime)
	}
	if fetched.StartTime = c.StartTime; fetched != c {
		t.Errorf("fetched %+v, listed %+v", fetched, c)
	}

	var updated CallResource
	client.do(http.MethodPost, callPath(sid), url.Values{"Twiml": {hangupTwiML}}, http.StatusOK, &updated)
	if updated.Sid != sid {
		t.Errorf("updated %+v", updated)
	}
	sipp.wait(ctx, t, "no BYE came")
	select {
	case <-waiter.done:
	case <-ctx.Done():
		t.Fatal("the first agent was not stopped")
	}
	// The server drops the call right after its BYE is answered; there
	// is no event to wait on from here.
	if !eventually(10*time.Second, func() bool {
		client.do(http.MethodGet, callsPath+".json", nil, http.StatusOK, &page)
		return len(page.Calls) == 0
	}) {
		t.Errorf("calls %+v after the hang-up", page.Calls)
	}
	client.do(http.MethodGet, callPath(sid), nil, http.StatusNotFound, nil)
}

// A call created through the API goes out of a real sip.Server to a
// sipp target with the Call-ID the API chose, so its SID is right from
// the start; it is listed queued or ringing, then in progress, and
// Status=completed ends it with a BYE. Another one, which the target
// lets ring, is cancelled with Status=canceled.
func TestCreatedCallThroughAPI(t *testing.T) {
	srv := startServer(t, newWaiter())
	a := newTestAPI(t, srv, withTestLogger(t), withPolicy(t, "127.0.0.1"))
	web := httptest.NewServer(a.Handler())
	t.Cleanup(web.Close)
	client := apiClient{t: t, base: web.URL, http: web.Client()}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	tests := []struct {
		scenario    string
		reach       string // the status to wait for
		update      string // Status=
		wantStatus  string // in the update's answer
		sippOutcome string
	}{
		{"uas_ring_answer.xml", "in-progress", "completed", "completed", "no BYE came"},
		{"uas_noanswer.xml", "ringing", "canceled", "canceled", "no CANCEL came"},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			client := client
			client.t = t
			port := freeUDPPort(t)
			target := startSipp(ctx, t, tt.scenario, port)
			form := url.Values{
				"To":    {"sip:sales@127.0.0.1:" + strconv.Itoa(port)},
				"From":  {"+15550100"},
				"Twiml": {`<Response><Pause length="30"/></Response>`},
			}
			var created CallResource
			client.do(http.MethodPost, callsPath+".json", form, http.StatusCreated, &created)
			if created.Status != "queued" || created.Direction != "outbound-api" || len(created.Sid) != 34 {
				t.Errorf("created %+v", created)
			}
			// The call's state changes with what the target does; there is
			// no event to wait on but the API's answers. Only the SIP
			// server reports a call in progress: reaching it under the
			// SID the API gave proves the server took the API's Call-ID.
			var c CallResource
			if !eventually(20*time.Second, func() bool {
				client.do(http.MethodGet, callPath(created.Sid), nil, http.StatusOK, &c)
				return c.Status == tt.reach
			}) {
				t.Fatalf("call %+v never %s", c, tt.reach)
			}
			var page CallPage
			client.do(http.MethodGet, callsPath+".json", nil, http.StatusOK, &page)
			if len(page.Calls) != 1 || page.Calls[0].Sid != created.Sid || page.Calls[0].Direction != "outbound-api" {
				t.Errorf("calls %+v", page.Calls)
			}
			var updated CallResource
			client.do(http.MethodPost, callPath(created.Sid), url.Values{"Status": {tt.update}}, http.StatusOK, &updated)
			if updated.Status != tt.wantStatus {
				t.Errorf("status %q after Status=%s, want %s", updated.Status, tt.update, tt.wantStatus)
			}
			target.wait(ctx, t, tt.sippOutcome)
			if !eventually(10*time.Second, func() bool {
				client.do(http.MethodGet, callsPath+".json", nil, http.StatusOK, &page)
				return len(page.Calls) == 0
			}) {
				t.Errorf("calls %+v after the hang-up", page.Calls)
			}
		})
	}
}

// waiter is an agent that listens until its call is taken from it.
type waiter struct {
	started chan struct{} // closed when the call reaches the agent
	done    chan struct{} // closed when Serve returns
	mu      sync.Mutex
	call    agent.Info
}

func newWaiter() *waiter {
	return &waiter{started: make(chan struct{}), done: make(chan struct{})}
}

func (w *waiter) Serve(ctx context.Context, call agent.Call) error {
	defer close(w.done)
	w.mu.Lock()
	w.call = call.Info()
	w.mu.Unlock()
	close(w.started)
	frame := make([]int16, agent.FrameSamples)
	for {
		if _, err := call.ReadAudio(ctx, frame); err != nil {
			return nil
		}
	}
}

func (w *waiter) info() agent.Info {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.call
}

// startServer runs a SIP server on 127.0.0.1 (UDP, OS-assigned port)
// that sends calls for "wait" to ag and trusts loopback as a peer. It is
// closed at test end.
func startServer(t *testing.T, ag agent.Agent, opts ...func(*sip.Config)) *sip.Server {
	t.Helper()
	ports, err := media.NewPortPool(rtpLo, rtpHi, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	cfg := sip.Config{
		Listeners: []sip.Listener{{Transport: "udp", Addr: "127.0.0.1:0"}},
		Ports:     ports,
		Router:    sip.Routes{{Name: "wait", User: "wait", Agent: ag}},
		Logger:    testLogger(t),
		Peers:     []sip.Peer{{Name: "loopback", Nets: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}},
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := sip.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// sippRun is a sipp caller running in the background.
type sippRun struct {
	done chan struct{} // closed when sipp has exited; err is set then
	err  error
	dir  string
	out  bytes.Buffer
}

func (r *sippRun) output() string {
	errs, _ := os.ReadFile(filepath.Join(r.dir, "errors.log"))
	return fmt.Sprintf("%s\n--- sipp errors:\n%s", r.out.String(), errs)
}

// startSipp runs sipp with a scenario from testdata/sipp on loopback,
// bounded by ctx and by sipp's own -timeout; args say whom it calls, if
// anyone. The test waits for it to end.
func startSipp(ctx context.Context, t *testing.T, scenario string, port int, args ...string) *sippRun {
	t.Helper()
	bin, err := exec.LookPath("sipp")
	if err != nil {
		t.Fatal("sipp not found: run `make deps` (Debian package sip-tester)")
	}
	scen, err := filepath.Abs(filepath.Join("..", "..", "..", "testdata", "sipp", scenario))
	if err != nil {
		t.Fatal(err)
	}
	r := &sippRun{done: make(chan struct{}), dir: t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append([]string{
		"-sf", scen,
		"-i", "127.0.0.1", "-mi", "127.0.0.1",
		"-p", strconv.Itoa(port), "-mp", strconv.Itoa(freeEvenPortPair(t)),
		"-m", "1", "-l", "1",
		"-timeout", "40s", "-timeout_error", "-nostdin",
		"-trace_err", "-error_file", filepath.Join(r.dir, "errors.log"),
	}, args...)...)
	cmd.Dir = r.dir
	cmd.Stdout, cmd.Stderr = &r.out, &r.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r.err = cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() { <-r.done }) // ctx ends sipp at the latest
	return r
}

// wait waits for sipp to exit and fails the test unless it succeeded.
func (r *sippRun) wait(ctx context.Context, t *testing.T, what string) {
	t.Helper()
	select {
	case <-r.done:
		if r.err != nil {
			t.Fatalf("sipp: %v\n%s", r.err, r.output())
		}
	case <-ctx.Done():
		t.Fatalf("sipp: %s", what)
	}
}

func freeUDPPort(t *testing.T) int { return siptest.FreePort(t, "udp", "127.0.0.1") }

// freeEvenPortPair returns an even UDP port whose successor is free too,
// for sipp's RTP and RTCP.
func freeEvenPortPair(t *testing.T) int { return siptest.FreeEvenPorts(t, "127.0.0.1", 2) }

// eventually is siptest.Eventually.
func eventually(d time.Duration, cond func() bool) bool { return siptest.Eventually(d, cond) }

// apiClient calls the API over HTTP with the test credentials.
type apiClient struct {
	t    *testing.T
	base string
	http *http.Client
}

// do sends a request and decodes the answer into out (if not nil) after
// checking its status.
func (c apiClient) do(method, path string, form url.Values, status int, out any) {
	c.t.Helper()
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.SetBasicAuth(testAccount, testToken)
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	var body bytes.Buffer
	_, _ = body.ReadFrom(res.Body)
	if res.StatusCode != status {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, res.StatusCode, status, body.String())
	}
	if out != nil {
		if err := json.Unmarshal(body.Bytes(), out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, body.String())
		}
	}
}

func withTestLogger(t *testing.T) testOpt {
	return func(c *Config) { c.Logger = testLogger(t) }
}

// testLogger sends log records to the test log (siptest.Logger).
func testLogger(t *testing.T) *slog.Logger { return siptest.Logger(t, slog.LevelInfo) }
