package twiml

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/speech"
)

// StreamFunc runs a Media Streams session on call (TwiML <Connect><Stream>)
// until the stream or the call ends.
type StreamFunc func(ctx context.Context, call agent.Call, url string, params map[string]string) error

// Config describes a TwiML application.
type Config struct {
	// URL is the application's voice URL, requested when a call comes.
	// It may be empty when Document is set; relative URLs in the
	// documents then cannot be followed.
	URL string
	// Document, if set, is run first instead of requesting URL: TwiML
	// given inline (a live-call update or create with Twiml=).
	Document []byte
	// Method is POST (the default) or GET.
	Method string
	// AuthToken, if set, signs every request with X-Twilio-Signature.
	AuthToken string
	// AccountSid is sent as AccountSid; default AC followed by 32 zeros.
	AccountSid string
	// Timeout bounds each request; default 15 s.
	Timeout time.Duration
	// StatusCallback, if set, is requested with the call's progress
	// (initiated, ringing, answered, completed), with
	// StatusCallbackMethod (POST by default).
	StatusCallback       string
	StatusCallbackMethod string
	// Synthesizer speaks <Say>; without one <Say> is skipped with a
	// warning.
	Synthesizer speech.Synthesizer
	// Recognizer hears <Gather input="speech">; without one a speech
	// gather is skipped with a warning (input="dtmf speech" collects
	// keys only).
	Recognizer speech.Recognizer
	// Stream runs <Connect><Stream>; without it <Connect> is skipped
	// with a warning.
	Stream StreamFunc
	// Fallback runs on the call when the application cannot be reached
	// or sends a document sipagent cannot run; without one the call
	// ends.
	Fallback agent.Agent
	// Client makes the requests; default an http.Client with Timeout.
	Client *http.Client
	// Logger gets the agent's log lines; default discards them.
	Logger *slog.Logger
}

// Agent runs a TwiML application on calls. It implements
// agent.AnswerDeferrer: calls ring until a verb needs them answered, so
// <Dial answerOnBridge="true"> and <Reject> work as first verbs.
type Agent struct {
	cfg  Config
	hook *webhook
	play *playCache
	log  *slog.Logger
}

var _ agent.AnswerDeferrer = (*Agent)(nil)

// New checks cfg and returns the agent. Errors name the field.
func New(cfg Config) (*Agent, error) {
	if u, err := url.Parse(cfg.URL); (cfg.URL != "" || cfg.Document == nil) &&
		(err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		return nil, fmt.Errorf("twiml: URL %q: want an http:// or https:// URL", cfg.URL)
	}
	if cfg.Document != nil {
		if _, err := Parse(cfg.Document); err != nil {
			return nil, fmt.Errorf("twiml: Document: %w", err)
		}
	}
	switch strings.ToUpper(cfg.Method) {
	case "":
		cfg.Method = "POST"
	case "GET", "POST":
		cfg.Method = strings.ToUpper(cfg.Method)
	default:
		return nil, fmt.Errorf("twiml: method %q: want GET or POST", cfg.Method)
	}
	if cfg.StatusCallback != "" {
		if u, err := url.Parse(cfg.StatusCallback); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("twiml: StatusCallback %q: want an http:// or https:// URL", cfg.StatusCallback)
		}
	}
	switch m := strings.ToUpper(cfg.StatusCallbackMethod); m {
	case "":
		cfg.StatusCallbackMethod = "POST"
	case "GET", "POST":
		cfg.StatusCallbackMethod = m
	default:
		return nil, fmt.Errorf("twiml: StatusCallbackMethod %q: want GET or POST", cfg.StatusCallbackMethod)
	}
	if cfg.AccountSid == "" {
		cfg.AccountSid = "AC" + strings.Repeat("0", 32)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: cfg.Timeout}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	hook := &webhook{client: cfg.Client, authToken: cfg.AuthToken, userAgent: "sipagent-twiml/1"}
	return &Agent{cfg: cfg, hook: hook, play: newPlayCache(hook), log: cfg.Logger}, nil
}

// DeferAnswer lets the document decide when the call is answered.
func (a *Agent) DeferAnswer(agent.Info) bool { return true }

// maxDocuments bounds the documents one call may fetch, so that an
// application redirecting to itself cannot keep a call busy for ever
// without ever waiting for the caller.
const maxDocuments = 1000

// Serve fetches the application's document and runs it, then the
// documents its Redirect, Gather, Dial and Connect actions lead to,
// until one ends the call or runs out of verbs (which hangs up, as
// Twilio does).
func (a *Agent) Serve(ctx context.Context, call agent.Call) error {
	return a.serve(ctx, call, a.cfg.Document, a.cfg.Method, a.cfg.URL)
}

// Document returns an agent that runs doc first, as if the application
// had answered with it (relative URLs in it are relative to the
// application's URL), then goes on as Serve does. It is how a live call
// is updated with Twiml=.
func (a *Agent) Document(doc []byte) agent.Agent {
	return agent.AgentFunc(func(ctx context.Context, call agent.Call) error {
		return a.serve(ctx, call, doc, a.cfg.Method, a.cfg.URL)
	})
}

// At returns an agent that starts from the document at u (requested
// with method, relative to the application's URL) instead of the
// application's URL: a live call updated with Url=.
func (a *Agent) At(u, method string) (agent.Agent, error) {
	abs, err := resolve(a.cfg.URL, u)
	if err != nil {
		return nil, err
	}
	if method == "" {
		method = "POST"
	}
	return agent.AgentFunc(func(ctx context.Context, call agent.Call) error {
		return a.serve(ctx, call, nil, method, abs)
	}), nil
}

func (a *Agent) serve(ctx context.Context, call agent.Call, doc []byte, method, u string) error {
	s := &session{a: a, call: call, info: call.Info()}
	s.log = a.log.With("call_id", s.info.CallID)
	if ac, ok := call.(interface{ Answered() bool }); ok {
		s.answered = ac.Answered() // a call redirected mid-way
	}
	s.events = s.startEvents()
	defer s.events.finish()
	if s.answered {
		s.events.answered()
	}
	var extra url.Values
	for range maxDocuments {
		if doc == nil {
			var err error
			if doc, err = s.fetch(ctx, method, u, extra); err != nil {
				return s.fail(ctx, err)
			}
		}
		verbs, err := Parse(doc)
		if err != nil {
			return s.fail(ctx, fmt.Errorf("%s: %w", u, err))
		}
		s.docURL = u
		next, err := s.run(ctx, verbs)
		switch {
		case errors.Is(err, agent.ErrHangup) || ctx.Err() != nil:
			return nil
		case err != nil:
			return s.fail(ctx, err)
		case next == nil:
			return nil
		}
		doc, method, u, extra = nil, next.method, next.url, next.params
	}
	return s.fail(ctx, fmt.Errorf("twiml: over %d documents in one call", maxDocuments))
}

// fail logs why the application cannot go on and hands the call to the
// fallback agent, if any.
func (s *session) fail(ctx context.Context, err error) error {
	if ctx.Err() != nil || errors.Is(err, agent.ErrHangup) {
		return nil
	}
	s.log.Warn("TwiML application failed", "error", err)
	if s.a.cfg.Fallback == nil {
		return err
	}
	return s.a.cfg.Fallback.Serve(ctx, s.call)
}
