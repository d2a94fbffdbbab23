package stream

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sipagent/sipagent/agent"
)

// DefaultDialTimeout bounds opening the WebSocket when no DialTimeout is
// given: long enough for TLS to a distant region, short enough that the
// caller is not left in silence before the fallback.
const DefaultDialTimeout = 5 * time.Second

// DefaultAccountSid is the accountSid sent when none is configured. It has
// the shape of a Twilio Account SID so that agents which check the shape
// accept it, and names no account.
const DefaultAccountSid = "AC00000000000000000000000000000000"

// Config configures an Agent: the stream it opens on every call it serves,
// and what runs on the call when the stream cannot be opened or ends.
type Config struct {
	// URL is the agent's WebSocket server, ws:// or wss://.
	URL string
	// Parameters are sent in the start message as customParameters, as
	// Twilio sends the <Parameter name value> children of <Stream>.
	Parameters map[string]string
	// AccountSid is sent in the start and stop messages; "" means
	// DefaultAccountSid. It must be "AC" and 32 hex digits.
	AccountSid string
	// Headers are added to the WebSocket handshake request, e.g.
	// Authorization for an agent that wants a token.
	Headers map[string]string
	// DialTimeout bounds opening the WebSocket (TCP, TLS and the HTTP
	// handshake); 0 means DefaultDialTimeout.
	DialTimeout time.Duration
	// HTTPClient makes the handshake request, e.g. one trusting a private
	// CA for wss://. nil means a plain client of the stream's own.
	HTTPClient *http.Client
	// Fallback, if set, runs on the call after the stream could not be
	// opened, failed, or was closed by the agent, so the caller is never
	// left in silence. Without one, the call is hung up then.
	Fallback agent.Agent
	// Logger receives stream starts and ends, dial failures and bad
	// messages from the agent. nil discards.
	Logger *slog.Logger
}

// Options says where and how Run streams one call. TwiML's <Connect>
// <Stream url> fills it from the document; Agent fills it from Config.
type Options struct {
	// URL is the agent's WebSocket server, ws:// or wss://.
	URL string
	// Parameters are sent in the start message as customParameters.
	Parameters map[string]string
	// AccountSid is sent in start and stop; "" means DefaultAccountSid.
	AccountSid string
	// CallSid is sent in start and stop; "" means one derived from the
	// call's SIP Call-ID, so that every stream of one call, and a TwiML
	// runner that derives it the same way, agree on it. It must be "CA"
	// and 32 hex digits.
	CallSid string
	// Headers are added to the WebSocket handshake request.
	Headers map[string]string
	// DialTimeout bounds opening the WebSocket; 0 means
	// DefaultDialTimeout.
	DialTimeout time.Duration
	// HTTPClient makes the handshake request; nil means a plain client.
	HTTPClient *http.Client
	// Logger receives the stream's events; nil discards.
	Logger *slog.Logger
}

// ConfigError names a bad field of a Config or Options.
type ConfigError struct {
	Field string // e.g. "Config.URL"
	Msg   string
}

// Error reads like `stream: Config.URL "http://x": want a ws:// or wss:// URL`.
func (e *ConfigError) Error() string { return "stream: " + e.Field + " " + e.Msg }

// options returns the Options Agent runs each call with.
func (c *Config) options() Options {
	return Options{
		URL:         c.URL,
		Parameters:  c.Parameters,
		AccountSid:  c.AccountSid,
		Headers:     c.Headers,
		DialTimeout: c.DialTimeout,
		HTTPClient:  c.HTTPClient,
		Logger:      c.Logger,
	}
}

// check reports the first bad field of o, naming it as a field of the
// struct called where ("Config" or "Options").
func (o *Options) check(where string) error {
	bad := func(field, format string, args ...any) error {
		return &ConfigError{Field: where + "." + field, Msg: fmt.Sprintf(format, args...)}
	}
	if err := checkURL(o.URL); err != nil {
		return bad("URL", "%q: %s", logURL(o.URL), err)
	}
	for name := range o.Parameters {
		if name == "" {
			return bad("Parameters", "has a parameter with no name")
		}
	}
	if o.AccountSid != "" && !validSid("AC", o.AccountSid) {
		return bad("AccountSid", "%q: want AC and 32 hex digits", o.AccountSid)
	}
	if o.CallSid != "" && !validSid("CA", o.CallSid) {
		return bad("CallSid", "%q: want CA and 32 hex digits", o.CallSid)
	}
	for name, value := range o.Headers {
		if err := checkHeader(name, value); err != nil {
			return bad("Headers", "%q: %s", name, err)
		}
	}
	if o.DialTimeout < 0 {
		return bad("DialTimeout", "%v: must not be negative", o.DialTimeout)
	}
	return nil
}

// withDefaults returns o with its empty fields filled for a call with
// the facts info.
func (o Options) withDefaults(info agent.Info) Options {
	if o.AccountSid == "" {
		o.AccountSid = DefaultAccountSid
	}
	if o.CallSid == "" {
		o.CallSid = CallSid(info.CallID)
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// checkURL accepts absolute ws:// and wss:// URLs with a host.
func checkURL(raw string) error {
	if raw == "" {
		return fmt.Errorf("is empty; want a ws:// or wss:// URL")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("does not parse")
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return fmt.Errorf("want a ws:// or wss:// URL")
	}
	if u.Host == "" {
		return fmt.Errorf("has no host")
	}
	return nil
}

// handshakeHeaders are set by the WebSocket handshake itself; a value
// configured for one would be overwritten or break the upgrade, so it is
// refused at start-up.
var handshakeHeaders = []string{"Host", "Connection", "Upgrade", "Sec-Websocket-Key",
	"Sec-Websocket-Version", "Sec-Websocket-Extensions", "Sec-Websocket-Protocol"}

// checkHeader accepts an HTTP header field (RFC 9110 s.5) that the
// handshake does not set itself.
func checkHeader(name, value string) error {
	if name == "" {
		return fmt.Errorf("empty header name")
	}
	for _, r := range name {
		if !isTokenChar(r) {
			return fmt.Errorf("header name has %q, not allowed in a field name", r)
		}
	}
	for _, h := range handshakeHeaders {
		if strings.EqualFold(name, h) {
			return fmt.Errorf("is set by the WebSocket handshake")
		}
	}
	if strings.ContainsAny(value, "\r\n\x00") {
		return fmt.Errorf("value has a line break or NUL")
	}
	return nil
}

// isTokenChar reports whether r may appear in an HTTP token (RFC 9110
// s.5.6.2).
func isTokenChar(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return r < 0x80 && strings.ContainsRune("!#$%&'*+-.^_`|~", r)
}
