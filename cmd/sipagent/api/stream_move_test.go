package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/sipagent/sipagent/agent/stream"
	"github.com/sipagent/sipagent/sip"
	"github.com/sipagent/sipagent/transfer"
)

// wsAgent is a Media Streams agent (a WebSocket server) that counts the
// caller's media frames and notes the events it got.
type wsAgent struct {
	srv    *httptest.Server
	mu     sync.Mutex
	media  int
	events []string
}

func newWSAgent(t *testing.T) *wsAgent {
	a := &wsAgent{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = conn.CloseNow() }()
		for {
			_, b, err := conn.Read(r.Context())
			if err != nil {
				return
			}
			var m struct{ Event string }
			if json.Unmarshal(b, &m) != nil {
				continue
			}
			a.mu.Lock()
			if m.Event == "media" {
				a.media++
			} else {
				a.events = append(a.events, m.Event)
			}
			a.mu.Unlock()
		}
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *wsAgent) seen() (media int, events []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.media, append([]string(nil), a.events...)
}

// An agent backend moves a caller off a running Media Streams session:
// while sipp's call streams to a WebSocket agent, a REST update with
// <Dial><Sip> stops the stream (the agent gets "stop") and bridges the
// caller to a sipp target, which answers and hangs up; the document then
// ends and the caller gets sipagent's BYE.
func TestUpdateMovesStreamingCallToTarget(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	ws := newWSAgent(t)
	streamer, err := stream.New(stream.Config{URL: "ws" + strings.TrimPrefix(ws.srv.URL, "http"), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	policy, err := transfer.NewPolicy([]string{"sip:sales@127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, streamer, func(c *sip.Config) {
		c.Transferrer = transfer.NewService(policy, transfer.ModeBridge, c.Logger)
	})
	a := newTestAPI(t, srv, withTestLogger(t))
	web := httptest.NewServer(a.Handler())
	t.Cleanup(web.Close)
	client := apiClient{t: t, base: web.URL, http: web.Client()}

	targetPort := freeUDPPort(t)
	target := startSipp(ctx, t, "uas_answer_bye.xml", targetPort)
	caller := startSipp(ctx, t, "uac_wait_bye.xml", freeUDPPort(t), "-s", "wait", srv.Addr("udp").String())

	// The call is streaming once the agent has a second of its audio.
	if !eventually(20*time.Second, func() bool { n, _ := ws.seen(); return n >= 50 }) {
		t.Fatalf("the call never streamed to the agent\n%s", caller.output())
	}
	calls := srv.Calls()
	if len(calls) != 1 {
		t.Fatalf("calls %+v, want the streaming one", calls)
	}
	dial := `<Response><Dial><Sip>sip:sales@127.0.0.1:` + strconv.Itoa(targetPort) + `</Sip></Dial></Response>`
	client.do(http.MethodPost, callPath(calls[0].Sid), url.Values{"Twiml": {dial}}, http.StatusOK, nil)

	target.wait(ctx, t, "the target was never called and hung up")
	caller.wait(ctx, t, "the caller never got sipagent's BYE")
	if _, events := ws.seen(); !slices.Contains(events, "stop") {
		t.Errorf("the stream agent got %v, want a stop when the call moved", events)
	}
	if !eventually(5*time.Second, func() bool { return srv.ActiveCalls() == 0 }) {
		t.Errorf("%d calls left", srv.ActiveCalls())
	}
}
