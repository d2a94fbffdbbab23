// Package deepgram is a speech.Recognizer on Deepgram's live
// speech-to-text service: the caller's 8 kHz audio streams over a
// WebSocket to wss://api.deepgram.com/v1/listen and interim and final
// transcripts come back, with Deepgram's own voice-activity events for
// barge-in. It is the production choice for telephony (what Voiceflow
// uses); speech.Pocketsphinx is the offline one. It is not a client for
// Deepgram's other APIs (pre-recorded audio, text to speech, agents).
package deepgram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/speech"
)

// Defaults.
const (
	// DefaultURL is Deepgram's hosted live transcription endpoint.
	DefaultURL = "wss://api.deepgram.com/v1/listen"
	// DefaultModel is Deepgram's current general model, which handles
	// telephone audio; nova-2-phonecall is the older one tuned for it.
	DefaultModel = "nova-3"
	// DefaultLanguage is used when neither the stream nor the Config
	// names one.
	DefaultLanguage = "en-US"
	// DefaultDialTimeout bounds the WebSocket handshake.
	DefaultDialTimeout = 10 * time.Second
	// DefaultKeepAlive is how long a stream may send no audio before it
	// sends a KeepAlive: Deepgram closes a connection idle for 10 s and
	// asks for one every 3 to 5 s (docs/audio-keep-alive).
	DefaultKeepAlive = 4 * time.Second
	// DefaultCloseTimeout is how long Close waits for the server to
	// finish after CloseStream.
	DefaultCloseTimeout = 2 * time.Second
	// MaxHints bounds RecognizeOptions.Hints, sent as keyterm or
	// keywords (Deepgram suggests training a model beyond 100).
	MaxHints = 100
	// maxHintLength bounds one hint, in bytes.
	maxHintLength = 100
	// minUtteranceEnd is the smallest utterance_end_ms Deepgram accepts
	// usefully (docs/utterance-end: 1000 or more).
	minUtteranceEnd = time.Second
	// maxMessage bounds one message from the server.
	maxMessage = 1 << 20
)

// Config describes how to reach Deepgram.
type Config struct {
	// APIKey authenticates every stream (Authorization: Token ...).
	// It is never logged.
	APIKey string
	// URL is the listen endpoint; default DefaultURL. Tests point it at
	// a local server.
	URL string
	// Model is the Deepgram model; default DefaultModel. Hints go as
	// keyterm to nova-3 models and as keywords to older ones.
	Model string
	// Language is the default BCP 47 language of streams that do not
	// name one; default DefaultLanguage.
	Language string
	// DialTimeout bounds the WebSocket handshake; default
	// DefaultDialTimeout.
	DialTimeout time.Duration
	// KeepAlive is the idle time after which a KeepAlive is sent;
	// default DefaultKeepAlive.
	KeepAlive time.Duration
	// CloseTimeout bounds Close's wait for the server; default
	// DefaultCloseTimeout.
	CloseTimeout time.Duration
	// HTTPClient makes the handshake; default http.DefaultClient.
	HTTPClient *http.Client
	// Logger gets the recognizer's log lines; default discards them.
	Logger *slog.Logger
}

// String describes the configuration without the API key.
func (c Config) String() string {
	return fmt.Sprintf("deepgram.Config{URL: %q, Model: %q, Language: %q, APIKey: [redacted]}", c.URL, c.Model, c.Language)
}

// LogValue keeps the API key out of logs.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("url", c.URL), slog.String("model", c.Model), slog.String("language", c.Language))
}

// Recognizer opens Deepgram streams. It is safe for concurrent use.
type Recognizer struct {
	cfg Config
	url *url.URL
}

var _ speech.Recognizer = (*Recognizer)(nil)

// New checks cfg and fills in its defaults. Errors name the field.
func New(cfg Config) (*Recognizer, error) {
	if strings.TrimSpace(cfg.APIKey) == "" {
		return nil, errors.New("deepgram: APIKey is empty")
	}
	if strings.ContainsAny(cfg.APIKey, "\r\n") {
		return nil, errors.New("deepgram: APIKey holds a line break")
	}
	if cfg.URL == "" {
		cfg.URL = DefaultURL
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return nil, fmt.Errorf("deepgram: URL %q: want a ws:// or wss:// URL", cfg.URL)
	}
	if cfg.Model == "" {
		cfg.Model = DefaultModel
	}
	if cfg.Language == "" {
		cfg.Language = DefaultLanguage
	}
	for name, d := range map[string]*time.Duration{"DialTimeout": &cfg.DialTimeout, "KeepAlive": &cfg.KeepAlive, "CloseTimeout": &cfg.CloseTimeout} {
		switch {
		case *d < 0:
			return nil, fmt.Errorf("deepgram: %s %v: want a positive duration", name, *d)
		case *d == 0:
			*d = map[string]time.Duration{"DialTimeout": DefaultDialTimeout, "KeepAlive": DefaultKeepAlive, "CloseTimeout": DefaultCloseTimeout}[name]
		}
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Recognizer{cfg: cfg, url: u}, nil
}

// Start dials Deepgram for one caller. The stream ends when ctx does or
// on Close.
func (r *Recognizer) Start(ctx context.Context, opts speech.RecognizeOptions) (speech.Stream, error) {
	u, err := r.streamURL(opts)
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, r.cfg.DialTimeout)
	defer cancel()
	conn, resp, err := websocket.Dial(dctx, u, &websocket.DialOptions{
		HTTPClient: r.cfg.HTTPClient,
		HTTPHeader: http.Header{"Authorization": {"Token " + r.cfg.APIKey}},
	})
	if err != nil {
		if resp != nil {
			// Deepgram answers a bad key or request with an HTTP error
			// and its dg-error header before any WebSocket.
			return nil, fmt.Errorf("deepgram: connect: HTTP %s %s: %w", resp.Status, resp.Header.Get("dg-error"), err)
		}
		return nil, fmt.Errorf("deepgram: connect: %w", err)
	}
	conn.SetReadLimit(maxMessage)
	log := r.cfg.Logger
	if resp != nil {
		log = log.With("request_id", resp.Header.Get("dg-request-id"))
	}
	return newStream(ctx, conn, r.cfg, log), nil
}

// streamURL is the endpoint with the stream's query: raw 16-bit PCM at
// the call's 8 kHz, interim results, endpointing at EndSilence, voice
// events (SpeechStarted) and UtteranceEnd as the fallback end of an
// utterance when noise keeps endpointing from firing
// (docs/understanding-end-of-speech-detection).
func (r *Recognizer) streamURL(opts speech.RecognizeOptions) (string, error) {
	end := opts.EndSilence
	if end <= 0 {
		end = speech.DefaultEndSilence
	}
	lang := opts.Language
	if lang == "" {
		lang = r.cfg.Language
	}
	if len(opts.Hints) > MaxHints {
		return "", fmt.Errorf("deepgram: %d hints; the limit is %d", len(opts.Hints), MaxHints)
	}
	u := *r.url
	q := u.Query()
	q.Set("encoding", "linear16")
	q.Set("sample_rate", strconv.Itoa(agent.SampleRate))
	q.Set("channels", "1")
	q.Set("interim_results", "true")
	q.Set("endpointing", strconv.FormatInt(end.Milliseconds(), 10))
	q.Set("utterance_end_ms", strconv.FormatInt(max(end, minUtteranceEnd).Milliseconds(), 10))
	q.Set("vad_events", "true")
	q.Set("model", r.cfg.Model)
	q.Set("language", lang)
	// keyterm is for Nova-3 (docs/keyterm), keywords for the models
	// before it (docs/keywords).
	param := "keywords"
	if strings.HasPrefix(r.cfg.Model, "nova-3") {
		param = "keyterm"
	}
	for _, h := range opts.Hints {
		h = strings.Join(strings.Fields(h), " ")
		if h == "" {
			continue
		}
		if len(h) > maxHintLength {
			return "", fmt.Errorf("deepgram: hint %.20q... is over %d bytes", h, maxHintLength)
		}
		q.Add(param, h)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}
