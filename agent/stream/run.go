package stream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/sipagent/sipagent/agent"
)

// Limits on the WebSocket.
const (
	// maxMessage is the largest message read from the agent: 1 MiB, over
	// a minute of audio in one media message. A larger one fails the
	// stream (close status 1009), as it can only be a broken agent.
	maxMessage = 1 << 20
	// writeTimeout bounds one message write. An agent that reads nothing
	// for this long, once the socket buffers are full, has failed.
	writeTimeout = 10 * time.Second
	// closeGrace bounds ending the stream after a hang-up: sending what
	// is queued, stop, and the close handshake.
	closeGrace = 2 * time.Second
)

// End says how a stream ended.
type End uint8

// The ways a stream ends.
const (
	// EndDialFailed: the WebSocket was never opened (bad Options, nothing
	// listening, handshake refused, DialTimeout passed).
	EndDialFailed End = iota + 1
	// EndAgentClosed: the agent closed the WebSocket normally (status
	// 1000, 1001 or none). The audio it sent before was played first.
	EndAgentClosed
	// EndSocketFailed: the WebSocket failed, or the agent closed it with
	// an error status.
	EndSocketFailed
	// EndHangup: the call ended, or Run's context was cancelled. The
	// agent was sent stop.
	EndHangup
)

// String returns a short description of e.
func (e End) String() string {
	switch e {
	case EndDialFailed:
		return "dial failed"
	case EndAgentClosed:
		return "closed by agent"
	case EndSocketFailed:
		return "socket failed"
	case EndHangup:
		return "call ended"
	}
	return fmt.Sprintf("End(%d)", uint8(e))
}

// Result tells how a stream went.
type Result struct {
	End       End
	StreamSid string // the streamSid sent in start ("" if never opened)
	CallSid   string
	Stats     Stats
}

// Stats counts what went over a stream.
type Stats struct {
	MediaSent     uint64 // media messages sent to the agent
	MediaDropped  uint64 // caller frames dropped: the agent was not reading
	EventsDropped uint64 // dtmf, mark and stop messages dropped: likewise
	MarksSent     uint64 // marks queued back to the agent
	DTMFSent      uint64 // key presses queued for the agent

	MediaReceived  uint64 // media messages from the agent
	SamplesDropped uint64 // agent audio dropped: over MaxQueuedAudio waiting
	MarksDropped   uint64 // agent marks dropped: over MaxPendingMarks waiting
	Clears         uint64 // clear messages from the agent
	BadMessages    uint64 // agent messages Decode refused, skipped
	UnknownEvents  uint64 // agent messages of other events, ignored
}

// Run answers call, opens a Media Streams WebSocket to opts.URL and
// streams the call over it until the call ends, ctx is cancelled, or the
// WebSocket closes or fails. It returns once every goroutine it started
// has stopped.
//
// The error is nil when the stream ended normally (EndAgentClosed,
// EndHangup) and wraps ErrDial or ErrSocket otherwise, or is a
// *ConfigError for bad Options. After EndDialFailed, EndAgentClosed and
// EndSocketFailed the call is still up, for the caller to go on with (the
// next TwiML verb, a fallback agent) or to hang up.
func Run(ctx context.Context, call agent.Call, opts Options) (Result, error) {
	if err := opts.check("Options"); err != nil {
		return Result{End: EndDialFailed}, err
	}
	opts = opts.withDefaults(call.Info())
	res := Result{CallSid: opts.CallSid}
	where := logURL(opts.URL)
	log := opts.Logger.With("call_sid", opts.CallSid, "url", where)

	if err := call.Answer(ctx); err != nil {
		res.End = EndHangup
		if errors.Is(err, agent.ErrHangup) || ctx.Err() != nil {
			return res, nil
		}
		return res, fmt.Errorf("stream: answer: %w", err)
	}
	conn, err := dial(ctx, &opts)
	if err != nil {
		if ctx.Err() != nil {
			res.End = EndHangup
			return res, nil
		}
		err = redact(err, opts.URL)
		log.Warn("stream: cannot open WebSocket", "err", err)
		res.End = EndDialFailed
		return res, fmt.Errorf("%w: %s: %w", ErrDial, where, err)
	}
	defer func() { _ = conn.CloseNow() }()

	res.StreamSid = randomSid("MZ")
	s := newSession(call, conn, opts, res.StreamSid, log.With("stream_sid", res.StreamSid))
	log.Info("stream: started", "stream_sid", res.StreamSid)
	res.End, err = s.run(ctx)
	res.Stats = s.stats()
	log.Info("stream: ended", "stream_sid", res.StreamSid, "end", res.End.String(), "err", err,
		"media_sent", res.Stats.MediaSent, "media_dropped", res.Stats.MediaDropped,
		"media_received", res.Stats.MediaReceived, "bad_messages", res.Stats.BadMessages)
	return res, err
}

// dial opens the WebSocket within opts.DialTimeout.
func dial(ctx context.Context, opts *Options) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, opts.DialTimeout)
	defer cancel()
	client := opts.HTTPClient
	if client == nil {
		// A transport of the stream's own, rather than
		// http.DefaultTransport, so that a refused handshake leaves no
		// idle connection (and its goroutines) behind: it is closed
		// below. A successful handshake takes its connection out of the
		// transport altogether.
		tr := &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout: opts.DialTimeout,
		}
		defer tr.CloseIdleConnections()
		client = &http.Client{Transport: tr}
	}
	header := make(http.Header, len(opts.Headers))
	for name, value := range opts.Headers {
		header.Set(name, value)
	}
	// The context bounds the handshake only; the connection outlives it.
	conn, _, err := websocket.Dial(ctx, opts.URL, &websocket.DialOptions{HTTPClient: client, HTTPHeader: header})
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(maxMessage)
	return conn, nil
}

// redactedError is an error whose text had a URL's secrets taken out.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact takes the query and user information of raw out of err's text:
// net/http errors quote the URL they failed on, and a token there must
// not reach the logs.
func redact(err error, raw string) error {
	u, perr := url.Parse(raw)
	if perr != nil {
		return err
	}
	msg := err.Error()
	if u.RawQuery != "" {
		msg = strings.ReplaceAll(msg, "?"+u.RawQuery, "")
	}
	if u.User != nil {
		msg = strings.ReplaceAll(msg, u.User.String()+"@", "")
	}
	if msg == err.Error() {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

// logURL returns raw without query or user information, which may hold
// secrets, for logs and errors.
func logURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(bad URL)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}
