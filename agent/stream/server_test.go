package stream

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/sipagent/sipagent/agent"
)

// testServer is a WebSocket server on loopback playing the agent. Each
// connection it accepts is handed to the test as a peer, which the test
// drives from its own goroutine.
type testServer struct {
	url    string
	client *http.Client // trusts the server's certificate
	peers  chan *peer
}

// peer is the agent's end of one stream.
type peer struct {
	conn   *websocket.Conn
	header http.Header // of the handshake request
}

// wireOut is any message the client sends, as a test reads it: with
// encoding/json and fields of its own, not the package's types.
type wireOut struct {
	Event          string `json:"event"`
	SequenceNumber string `json:"sequenceNumber"`
	StreamSid      string `json:"streamSid"`
	Protocol       string `json:"protocol"`
	Version        string `json:"version"`
	Start          *struct {
		StreamSid        string            `json:"streamSid"`
		AccountSid       string            `json:"accountSid"`
		CallSid          string            `json:"callSid"`
		Tracks           []string          `json:"tracks"`
		CustomParameters map[string]string `json:"customParameters"`
		MediaFormat      struct {
			Encoding   string `json:"encoding"`
			SampleRate int    `json:"sampleRate"`
			Channels   int    `json:"channels"`
		} `json:"mediaFormat"`
	} `json:"start"`
	Media *struct {
		Track     string `json:"track"`
		Chunk     string `json:"chunk"`
		Timestamp string `json:"timestamp"`
		Payload   string `json:"payload"`
	} `json:"media"`
	DTMF *struct {
		Track string `json:"track"`
		Digit string `json:"digit"`
	} `json:"dtmf"`
	Mark *struct {
		Name string `json:"name"`
	} `json:"mark"`
	Stop *struct {
		AccountSid string `json:"accountSid"`
		CallSid    string `json:"callSid"`
	} `json:"stop"`
}

// serverOption adjusts the test server before it starts.
type serverOption func(*httptest.Server)

// newServer starts a test server. Its handlers return, closing their
// connections, when the test ends.
func newServer(t *testing.T, opts ...serverOption) *testServer {
	t.Helper()
	s := &testServer{peers: make(chan *peer, 4)}
	stop := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return // Accept has answered with an error status
		}
		defer func() { _ = conn.CloseNow() }()
		conn.SetReadLimit(maxMessage)
		s.peers <- &peer{conn: conn, header: r.Header.Clone()}
		<-stop
	}))
	for _, o := range opts {
		o(srv)
	}
	if srv.TLS != nil {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) }) // runs first: cleanups run last-in first-out
	s.url = "ws" + strings.TrimPrefix(srv.URL, "http")
	s.client = srv.Client()
	return s
}

// withTLS makes the server a wss:// one; its client trusts it.
func withTLS(srv *httptest.Server) { srv.TLS = &tls.Config{} }

// accept returns the next stream's peer.
func (s *testServer) accept(ctx context.Context, t *testing.T) *peer {
	t.Helper()
	select {
	case p := <-s.peers:
		return p
	case <-ctx.Done():
		t.Fatalf("no WebSocket connection: %v", ctx.Err())
		return nil
	}
}

// next reads the next message from the client.
func (p *peer) next(ctx context.Context, t *testing.T) wireOut {
	t.Helper()
	_, data, err := p.conn.Read(ctx)
	if err != nil {
		t.Fatalf("peer read: %v", err)
	}
	var m wireOut
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("peer got %q: %v", data, err)
	}
	return m
}

// expect reads the next message and fails unless it is of event.
func (p *peer) expect(ctx context.Context, t *testing.T, event string) wireOut {
	t.Helper()
	m := p.next(ctx, t)
	if m.Event != event {
		t.Fatalf("peer got %q message, want %q: %+v", m.Event, event, m)
	}
	return m
}

// handshake reads connected and start and returns start.
func (p *peer) handshake(ctx context.Context, t *testing.T) wireOut {
	t.Helper()
	p.expect(ctx, t, "connected")
	return p.expect(ctx, t, "start")
}

// sendRaw sends one text message.
func (p *peer) sendRaw(ctx context.Context, t *testing.T, msg string) {
	t.Helper()
	if err := p.conn.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		t.Fatalf("peer write: %v", err)
	}
}

// sendMedia sends mulaw as one media message.
func (p *peer) sendMedia(ctx context.Context, t *testing.T, mulaw []byte) {
	t.Helper()
	p.sendRaw(ctx, t, `{"event":"media","streamSid":"MZx","media":{"payload":"`+base64.StdEncoding.EncodeToString(mulaw)+`"}}`)
}

// sendMark sends a mark.
func (p *peer) sendMark(ctx context.Context, t *testing.T, name string) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"event": "mark", "streamSid": "MZx", "mark": map[string]string{"name": name}})
	p.sendRaw(ctx, t, string(b))
}

// expectClose reads until the client closes the socket and returns the
// close status.
func (p *peer) expectClose(ctx context.Context, t *testing.T) websocket.StatusCode {
	t.Helper()
	for {
		_, data, err := p.conn.Read(ctx)
		if err != nil {
			return websocket.CloseStatus(err)
		}
		t.Logf("peer got %s before the close", data)
	}
}

// runResult is what Run returned.
type runResult struct {
	res Result
	err error
}

// startRun runs Run in a goroutine.
func startRun(ctx context.Context, call agent.Call, opts Options) <-chan runResult {
	done := make(chan runResult, 1)
	go func() {
		res, err := Run(ctx, call, opts)
		done <- runResult{res, err}
	}()
	return done
}

// result waits for Run's result.
func result(ctx context.Context, t *testing.T, done <-chan runResult) runResult {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-ctx.Done():
		t.Fatalf("Run still running: %v", ctx.Err())
		return runResult{}
	}
}

// smallBuffers shrinks the socket buffers of accepted connections, so
// that a peer that does not read makes the client's writes block soon.
func smallBuffers(srv *httptest.Server) {
	srv.Listener = smallBufferListener{srv.Listener}
}

type smallBufferListener struct{ net.Listener }

func (l smallBufferListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096)
		_ = tc.SetWriteBuffer(4096)
	}
	return c, err
}

// hangup ends the call as the caller would and plays the agent's part
// to the end: stop, then the client's close, which it answers.
func (p *peer) hangup(ctx context.Context, t *testing.T, call interface{ Hangup() }) {
	t.Helper()
	call.Hangup()
	for {
		m := p.next(ctx, t)
		if m.Event == "stop" {
			break
		}
	}
	if code := p.expectClose(ctx, t); code != websocket.StatusNormalClosure {
		t.Errorf("client closed with %v, want normal closure", code)
	}
}
