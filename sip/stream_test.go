package sip_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/stream"
	"github.com/sipagent/sipagent/media"
)

// echoStreamAgent is a Media Streams agent (the WebSocket server side): it
// keeps the caller audio and key presses it gets, and sends every media
// payload straight back to be played to the caller.
type echoStreamAgent struct {
	srv *httptest.Server

	mu     sync.Mutex
	heard  []int16 // decoded mu-law from the media messages
	digits string
	events []string
}

func newEchoStreamAgent(t *testing.T) *echoStreamAgent {
	a := &echoStreamAgent{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = conn.CloseNow() }()
		ctx := r.Context()
		var sid string
		for {
			_, b, err := conn.Read(ctx)
			if err != nil {
				return
			}
			var m struct {
				Event     string `json:"event"`
				StreamSid string `json:"streamSid"`
				Media     struct {
					Payload string `json:"payload"`
				} `json:"media"`
				DTMF struct {
					Digit string `json:"digit"`
				} `json:"dtmf"`
			}
			if json.Unmarshal(b, &m) != nil {
				continue
			}
			a.mu.Lock()
			switch m.Event {
			case "start":
				sid = m.StreamSid
			case "media":
				ulaw, _ := base64.StdEncoding.DecodeString(m.Media.Payload)
				pcm := make([]int16, len(ulaw))
				media.PCMU.Decode(pcm, ulaw)
				a.heard = append(a.heard, pcm...)
			case "dtmf":
				a.digits += m.DTMF.Digit
			}
			if m.Event != "media" {
				a.events = append(a.events, m.Event)
			}
			a.mu.Unlock()
			if m.Event == "media" {
				echo, _ := json.Marshal(map[string]any{"event": "media", "streamSid": sid, "media": map[string]string{"payload": m.Media.Payload}})
				if conn.Write(ctx, websocket.MessageText, echo) != nil {
					return
				}
			}
		}
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *echoStreamAgent) seen() (heard []int16, digits string, events []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]int16(nil), a.heard...), a.digits, append([]string(nil), a.events...)
}

// A softphone talks to a Media Streams agent: the agent gets baresip's
// voice (the audio baresip sent, mu-law over the WebSocket) and its key
// press as a dtmf message, and baresip hears what the agent sends back -
// its own voice, through sipagent, the WebSocket and back.
func TestBaresipTalksToStreamAgent(t *testing.T) {
	ctx := baresipContext(t)
	ws := newEchoStreamAgent(t)
	sa, err := stream.New(stream.Config{URL: "ws" + strings.TrimPrefix(ws.srv.URL, "http"), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, map[string]agent.Agent{"bot": sa})
	signal := testSignal()
	mic := append(make([]int16, samples(500*time.Millisecond)), signal...)
	mic = append(mic, make([]int16, samples(1500*time.Millisecond))...)
	ph := startBaresip(t, ctx, phoneConfig{Dial: dialURI(srv, "bot"), Codecs: "PCMA", Mic: mic})
	ph.mustWait(t, ctx, "Call established")
	ph.mustWait(t, ctx, "incoming rtp for 'audio' established")
	ph.typeKeys(t, "5")
	ph.mustWait(t, ctx, "terminated") // the microphone ended: baresip hung up
	waitIdle(t, srv)
	ph.quit(t, ctx)

	heard, digits, events := ws.seen()
	piece := g711(media.PCMU, g711(media.PCMA, signal))[samples(200*time.Millisecond):samples(700*time.Millisecond)]
	corr, lag := bestCorrelation(heard, piece)
	t.Logf("the stream agent got baresip's voice (PCMA call, mu-law stream): correlation %.3f at %.3f s", corr, float64(lag)/media.SampleRate)
	if corr < 0.9 {
		t.Errorf("the agent did not get baresip's audio: correlation %.3f", corr)
	}
	if digits != "5" {
		t.Errorf("dtmf messages carried %q, want 5", digits)
	}
	if len(events) < 3 || events[0] != "connected" || events[1] != "start" || events[len(events)-1] != "stop" {
		t.Errorf("events %v, want connected, start, ..., stop", events)
	}
	back := g711(media.PCMA, g711(media.PCMU, piece))
	corr, lag = bestCorrelation(ph.heard(t), back)
	t.Logf("baresip heard the agent's audio (its own voice echoed over the WebSocket): correlation %.3f at %.3f s", corr, float64(lag)/media.SampleRate)
	if corr < 0.9 {
		t.Errorf("baresip did not hear the agent: correlation %.3f", corr)
	}
}
