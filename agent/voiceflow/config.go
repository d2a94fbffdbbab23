package voiceflow

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/speech"
	"github.com/sipagent/sipagent/agent/twiml"
)

// DefaultRuntime is Voiceflow's public Dialog Manager runtime.
const DefaultRuntime = "https://general-runtime.voiceflow.com"

// Ways to pick the Voiceflow user ID a conversation is kept under.
const (
	// UserPerCall starts a new conversation on every call.
	UserPerCall = "call"
	// UserPerCaller keeps one conversation per calling number, so a
	// caller who rings back finds the agent where they left it.
	UserPerCaller = "caller"
)

// Config describes a Voiceflow agent.
type Config struct {
	// Runtime is the Dialog Manager API base URL; "" means
	// DefaultRuntime.
	Runtime string
	// APIKey is the project's Dialog Manager API key (VF.DM....). It is
	// sent as Authorization and never logged.
	APIKey string
	// VersionID is development, production (the default) or a version id.
	VersionID string
	// UserID is UserPerCall (the default) or UserPerCaller.
	UserID string
	// TTS asks Voiceflow for speech audio (config.tts); without it, or
	// when a trace has no audio, speak traces are synthesized here.
	TTS bool
	// StripSSML and ExcludeTypes are passed through as config.
	StripSSML    bool
	ExcludeTypes []string
	// Timeout bounds each request; 0 means 10 s.
	Timeout time.Duration
	// NoInput is how long the caller may stay silent before NoInputEvent
	// is sent; 0 means 8 s.
	NoInput time.Duration
	// NoInputEvent is the request type for silence; default no-reply.
	NoInputEvent string
	// DTMFAsText sends key presses outside a DTMF action as text ("1")
	// rather than as the `DTMF 1` path events of Voiceflow's telephony
	// convention.
	DTMFAsText bool
	// ForwardTo turns a forward-call action's number into a SIP URI:
	// "{number}" in it is replaced, e.g. "sip:{number}@trunk.example.com".
	// Without it forward-call takes its failure path.
	ForwardTo string
	// Synthesizer speaks text traces and apologies.
	Synthesizer speech.Synthesizer
	// Recognizer hears the caller; without one only key presses are
	// taken.
	Recognizer speech.Recognizer
	// TwiML is the template for running `twiml` actions (Synthesizer,
	// Stream...).
	TwiML twiml.Config
	// Apology is said before the fallback when the runtime fails;
	// default "Sorry, something went wrong."
	Apology string
	// Fallback takes the call when the runtime fails; without one the
	// call ends after the apology.
	Fallback agent.Agent
	// Client makes the requests; default an http.Client with Timeout.
	Client *http.Client
	// Logger gets the agent's log lines; default discards them.
	Logger *slog.Logger
}

// New checks cfg and returns the agent. Errors name the field.
func New(cfg Config) (*Agent, error) {
	if cfg.Runtime == "" {
		cfg.Runtime = DefaultRuntime
	}
	if u, err := url.Parse(cfg.Runtime); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("voiceflow: Runtime %q: want an http:// or https:// URL", cfg.Runtime)
	}
	cfg.Runtime = strings.TrimRight(cfg.Runtime, "/")
	if cfg.APIKey == "" {
		return nil, fmt.Errorf("voiceflow: APIKey is empty")
	}
	if cfg.VersionID == "" {
		cfg.VersionID = "production"
	}
	switch cfg.UserID {
	case "":
		cfg.UserID = UserPerCall
	case UserPerCall, UserPerCaller:
	default:
		return nil, fmt.Errorf("voiceflow: UserID %q: want %s or %s", cfg.UserID, UserPerCall, UserPerCaller)
	}
	if cfg.ForwardTo != "" && !strings.Contains(cfg.ForwardTo, "{number}") {
		return nil, fmt.Errorf("voiceflow: ForwardTo %q has no {number}", cfg.ForwardTo)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.NoInput <= 0 {
		cfg.NoInput = 8 * time.Second
	}
	if cfg.NoInputEvent == "" {
		cfg.NoInputEvent = "no-reply"
	}
	if cfg.Apology == "" {
		cfg.Apology = "Sorry, something went wrong."
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: cfg.Timeout}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.TwiML.Synthesizer == nil {
		cfg.TwiML.Synthesizer = cfg.Synthesizer
	}
	if cfg.TwiML.Logger == nil {
		cfg.TwiML.Logger = cfg.Logger
	}
	c := &client{
		http: cfg.Client, runtime: cfg.Runtime, apiKey: cfg.APIKey, version: cfg.VersionID,
		config: requestConfig{TTS: cfg.TTS, StripSSML: cfg.StripSSML, ExcludeTypes: cfg.ExcludeTypes},
	}
	return &Agent{cfg: cfg, dm: c, log: cfg.Logger}, nil
}
