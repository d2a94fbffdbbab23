// Package config reads sipagent's YAML configuration: one typed struct,
// parsed strictly (unknown keys are errors), with ${VAR} expansion from the
// environment, defaults filled in, and every value checked at start-up so
// that a bad key stops the process with an error that names it.
package config

import (
	_ "embed"
	"fmt"
	"time"
)

// Default is the embedded configuration `sipagent` runs with when no
// --config is given: loopback UDP and TCP on 5060, the demo flow for every
// call.
//
//go:embed default.yaml
var Default []byte

// Config is the whole of sipagent's configuration.
type Config struct {
	SIP      SIP              `yaml:"sip"`
	Media    Media            `yaml:"media"`
	Agents   map[string]Agent `yaml:"agents"`
	Routes   []Route          `yaml:"routes"`
	Limits   Limits           `yaml:"limits"`
	Shutdown Shutdown         `yaml:"shutdown"`
	Log      Log              `yaml:"log"`

	// Who may call in: peers by address, users by digest credentials,
	// and the registrars of accounts.
	Peers     []Peer    `yaml:"peers"`
	Users     []User    `yaml:"users"`
	Auth      Auth      `yaml:"auth"`
	Registrar Registrar `yaml:"registrar"`
	// Accounts are registrations of sipagent at other registrars.
	Accounts []Account `yaml:"accounts"`
	// HTTP serves the operator's status endpoint.
	HTTP HTTP `yaml:"http"`
	// API is the Twilio-shaped live-call REST API, served on http.listen.
	API API `yaml:"api"`
	// Speech configures speech recognition for the agents that listen
	// (voiceflow, TwiML <Gather input="speech">).
	Speech Speech `yaml:"speech"`
	// Transfer configures call forwarding.
	Transfer Transfer `yaml:"transfer"`
}

// Transfer configures call forwarding.
type Transfer struct {
	// Allow lists the destinations calls may be forwarded to: SIP URI
	// patterns ("sip:*@pbx.example.com") or domains ("example.com",
	// "*.example.com"). Empty: no forwarding at all.
	Allow []string `yaml:"allow"`
}

// Peer is a trunk or PBX let in by its signalling source address.
type Peer struct {
	Name      string   `yaml:"name"`
	Addresses []string `yaml:"addresses"` // CIDR prefixes or single addresses
}

// User is a softphone or PBX that authenticates with digest credentials
// and may register to sipagent's registrar. Give a password (inline,
// ${ENV} or password_file) or an HA1 computed with auth.realm.
type User struct {
	Username     string `yaml:"username"`
	Password     string `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
	HA1          string `yaml:"ha1"`        // MD5(username:realm:password), hex
	HA1SHA256    string `yaml:"ha1_sha256"` // SHA-256 of the same, hex
}

// Auth tunes digest challenges and refusals.
type Auth struct {
	// Realm is the digest realm (default "sipagent").
	Realm string `yaml:"realm"`
	// Unknown is what refused requests get: reject (403) or drop
	// (no answer at all).
	Unknown string `yaml:"unknown"`
	// MaxFailures authentication failures from one address within
	// FailureWindow block it for BlockFor.
	MaxFailures   int      `yaml:"max_failures"`
	FailureWindow Duration `yaml:"failure_window"`
	BlockFor      Duration `yaml:"block_for"`
	// NonceLifetime is how long a challenge may be answered.
	NonceLifetime Duration `yaml:"nonce_lifetime"`
	// Algorithms are the digest algorithms offered, in order: MD5,
	// SHA-256, SHA-512-256. Default MD5, which every softphone speaks.
	Algorithms []string `yaml:"algorithms"`
}

// Registrar bounds the registrations users make to sipagent.
type Registrar struct {
	MinExpires int `yaml:"min_expires"` // seconds; shorter gets 423
	MaxExpires int `yaml:"max_expires"` // seconds; longer is cut
}

// Account is one registration of sipagent at a registrar.
type Account struct {
	Name string `yaml:"name"`
	// Registrar is the REGISTER Request-URI: sip:domain, no user part.
	Registrar string `yaml:"registrar"`
	// Proxy is an optional outbound proxy, e.g. a provider's edge.
	Proxy        string `yaml:"proxy"`
	Username     string `yaml:"username"`
	AuthUsername string `yaml:"auth_username"`
	Password     string `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
	Transport    string `yaml:"transport"` // udp or tcp
	Expires      int    `yaml:"expires"`   // seconds asked for
	// KeepAlive is the NAT keepalive interval towards the registrar.
	KeepAlive Duration `yaml:"keepalive"`
	// Agent takes the calls that arrive for the account.
	Agent string `yaml:"agent"`
}

// HTTP configures the status endpoint (GET /status).
type HTTP struct {
	// Listen is host:port; empty turns the endpoint off.
	Listen string `yaml:"listen"`
}

// API configures the live-call REST API. It is off unless an auth token
// is set: nothing is open by default.
type API struct {
	// AccountSid is the account in the API's paths and the basic-auth
	// user; default AC followed by 32 zeros.
	AccountSid string `yaml:"account_sid"`
	// AuthToken is the basic-auth password (${ENV} or auth_token_file).
	AuthToken     string `yaml:"auth_token"`
	AuthTokenFile string `yaml:"auth_token_file"`
}

// Speech configures the speech recognizer agents share.
type Speech struct {
	// Recognizer is none (the default: agents hear keys only),
	// pocketsphinx (offline; Debian packages pocketsphinx and
	// pocketsphinx-en-us) or deepgram (cloud streaming).
	Recognizer string `yaml:"recognizer"`
	// Deepgram configures the deepgram recognizer.
	Deepgram Deepgram `yaml:"deepgram"`
}

// Deepgram configures Deepgram's streaming recognizer.
type Deepgram struct {
	APIKey     string `yaml:"api_key"` // ${ENV} or api_key_file
	APIKeyFile string `yaml:"api_key_file"`
	Model      string `yaml:"model"`    // default nova-3
	Language   string `yaml:"language"` // e.g. en-US
	URL        string `yaml:"url"`      // default Deepgram's listen endpoint
}

// SIP configures signalling.
type SIP struct {
	// Listen lists the sockets to serve, as transport://host:port URLs;
	// transports are udp, tcp and tls.
	Listen []string `yaml:"listen"`
	// ExternalHost is the address advertised in Contact and SDP when
	// sipagent sits behind NAT. Empty: the address a call arrived on.
	ExternalHost string `yaml:"external_host"`
	// UserAgent is sent in User-Agent and Server headers.
	UserAgent string `yaml:"user_agent"`
	// RingTime, when set, sends 180 Ringing and answers calls after this
	// long (as a phone that rings before it is picked up).
	RingTime Duration `yaml:"ring_time"`
	// TLS is the certificate of tls:// listeners and the authorities
	// trusted for TLS connections sipagent opens.
	TLS TLS `yaml:"tls"`
}

// Media configures RTP.
type Media struct {
	// RTPPorts is the even-port range RTP sockets bind in, "MIN-MAX".
	RTPPorts string `yaml:"rtp_ports"`
	// Codecs lists the codecs to answer with, in order of preference.
	Codecs []string `yaml:"codecs"`
	// RTPTimeout ends a call that has received no RTP for this long
	// (calls on hold are exempt). 0 disables the check.
	RTPTimeout Duration `yaml:"rtp_timeout"`
	// JitterBuffer is the playout delay of the receive jitter buffer, in
	// packets.
	JitterBuffer int `yaml:"jitter_buffer"`
}

// Agent configures one named agent.
type Agent struct {
	// Kind is the agent type: flow, echo, twiml, stream or voiceflow.
	Kind string `yaml:"kind"`
	// Flow is the flow file of a flow agent; empty runs the embedded demo.
	Flow string `yaml:"flow"`
	// Delay is how far behind the caller an echo agent plays back.
	Delay Duration `yaml:"delay"`
	// ForwardTo is where a flow agent's transfer steps without a target
	// forward (the demo's option 2): a SIP URI as TwiML <Sip> gives it.
	ForwardTo string `yaml:"forward_to"`
	// ForwardMode is refer, bridge or auto for such steps.
	ForwardMode string `yaml:"forward_mode"`

	// URL is a twiml agent's application (its voice URL), or a stream
	// agent's WebSocket server (ws:// or wss://).
	URL string `yaml:"url"`
	// Parameters are a stream agent's customParameters.
	Parameters map[string]string `yaml:"parameters"`
	// Headers go into a stream agent's WebSocket handshake (e.g.
	// Authorization: use ${ENV} for secrets).
	Headers map[string]string `yaml:"headers"`
	// Method is GET or POST (the default) for a twiml agent's requests.
	Method string `yaml:"method"`
	// AuthToken signs a twiml agent's requests with X-Twilio-Signature
	// (${ENV} or auth_token_file, never inline in shared files).
	AuthToken     string `yaml:"auth_token"`
	AuthTokenFile string `yaml:"auth_token_file"`
	// AccountSid is the AccountSid a twiml or stream agent sends.
	AccountSid string `yaml:"account_sid"`
	// Timeout bounds each of a twiml agent's requests (default 15s).
	Timeout Duration `yaml:"timeout"`
	// Fallback names the agent that takes the call when a twiml agent's
	// application fails, or a stream agent's WebSocket fails or closes.
	Fallback string `yaml:"fallback"`
	// Voiceflow agents (Dialog Manager API). Timeout, Fallback and
	// AccountSid above are shared with the other web agents.
	Runtime         string   `yaml:"runtime"`      // DM API base URL; default Voiceflow's
	APIKey          string   `yaml:"api_key"`      // VF.DM... (${ENV} or api_key_file)
	APIKeyFile      string   `yaml:"api_key_file"` //
	VersionID       string   `yaml:"version_id"`   // development, production or an id
	UserID          string   `yaml:"user_id"`      // call (default) or caller
	TTS             *bool    `yaml:"tts"`          // ask Voiceflow for speech audio; default true
	StripSSML       bool     `yaml:"strip_ssml"`
	ExcludeTypes    []string `yaml:"exclude_types"`
	NoInput         Duration `yaml:"no_input"`         // silence before no_input_event; default 8s
	NoInputEvent    string   `yaml:"no_input_event"`   // default no-reply
	DTMFAsText      bool     `yaml:"dtmf_as_text"`     // keys as text rather than "DTMF 1" events
	ForwardTemplate string   `yaml:"forward_template"` // forward-call target, e.g. "sip:{number}@trunk.example.com"
	Apology         string   `yaml:"apology"`          // said before the fallback when the runtime fails

	// StatusCallback receives a twiml agent's call progress events
	// (ringing, answered, completed), with StatusCallbackMethod.
	StatusCallback       string `yaml:"status_callback"`
	StatusCallbackMethod string `yaml:"status_callback_method"`
}

// Route sends matching calls to an agent. Empty match fields match
// anything; the first route that matches wins.
type Route struct {
	Agent string `yaml:"agent"`
	// User matches the Request-URI user part ("*" wildcards allowed).
	User string `yaml:"user"`
	// From matches the From URI ("*" wildcards allowed).
	From string `yaml:"from"`
	// Source matches the signalling source address (a CIDR).
	Source string `yaml:"source"`
}

// Limits bounds the load sipagent takes.
type Limits struct {
	// MaxCalls is the number of concurrent calls; further INVITEs get
	// 503 with Retry-After.
	MaxCalls int `yaml:"max_calls"`
}

// Shutdown configures SIGINT/SIGTERM handling.
type Shutdown struct {
	// Drain is how long active calls may go on after a stop signal
	// before they are ended with BYE.
	Drain Duration `yaml:"drain"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// Duration is a time.Duration written as "20ms", "5s", "1m".
type Duration time.Duration

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("not a duration (use e.g. 500ms, 30s, 2m): %q", b)
	}
	if v < 0 {
		return fmt.Errorf("negative duration %q", b)
	}
	*d = Duration(v)
	return nil
}

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }
