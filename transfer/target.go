package transfer

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Mode is how a call is forwarded.
type Mode string

// Modes. The empty Mode means the configured default (the config's
// forward_mode), as agent.TransferRequest's "" does.
const (
	// ModeRefer hands the caller over with a REFER (blind transfer).
	ModeRefer Mode = "refer"
	// ModeBridge places a new call to the target and bridges the legs.
	ModeBridge Mode = "bridge"
	// ModeAuto tries REFER and bridges if the caller refuses it.
	ModeAuto Mode = "auto"
)

// Limits and defaults, from Twilio's <Dial> and <Sip> documentation.
const (
	// MaxURILength bounds the URI without its ?headers part ("under 255
	// characters").
	MaxURILength = 254
	// MaxHeadersLength bounds the ?headers part ("under 1024 characters").
	MaxHeadersLength = 1023

	// DefaultTimeout is how long the target may ring.
	DefaultTimeout = 30 * time.Second
	// MaxTimeout is the longest ring time <Dial timeout> allows.
	MaxTimeout = 600 * time.Second
	// DefaultTimeLimit bounds a bridged call (<Dial timeLimit>, 4 hours).
	DefaultTimeLimit = 14400 * time.Second
	// MaxTimeLimit is the longest timeLimit accepted: a day.
	MaxTimeLimit = 24 * time.Hour

	// maxCallerID and maxCredential bound values copied into From and
	// Authorization.
	maxCallerID   = 64
	maxCredential = 256
)

// clientScheme prefixes a registered user's name in a target, as in the
// live-call API's To=client:NAME.
const clientScheme = "client:"

// Transports a target may ask for with ;transport=.
const (
	TransportUDP = "udp"
	TransportTCP = "tcp"
	TransportTLS = "tls"
)

// Target is where and how to forward a call: everything <Dial> and <Sip>
// can say. ParseTarget fills one from a URI with the defaults below;
// a Target built in code should pass Validate before use.
type Target struct {
	// Client, when set, is a user registered to sipagent's own registrar
	// (client:NAME, TwiML <Dial><Client>): the call goes to the contact
	// she registered, and URI, Transport and the URI's hints are empty.
	// A client is reached by bridging only.
	Client string
	// URI is the target's SIP or SIPS URI: scheme, user (in canonical
	// form, see ParseTarget), host and port, and the URI parameters other
	// than transport, secure, region and edge, which have fields below.
	// It has no password and no headers.
	URI sip.Uri
	// Transport is udp, tcp or tls, from ;transport=. Without it, udp
	// for a sip: URI (Twilio's default) and tls for sips:.
	Transport string
	// Secure is ;secure=true: Twilio's way to ask for SRTP on the
	// forwarded call. It is kept, not refused, because only the mechanics
	// know what they can do: a bridge must refuse a secure target while
	// the media layer has no SRTP rather than dial it in the clear, and a
	// REFER leaves the media to the caller and the target, so ReferTo
	// drops it.
	Secure bool
	// Region and Edge are Twilio's ;region= and ;edge= routing hints.
	// They are accepted for compatibility and mean nothing to sipagent;
	// neither is used for matching or sent on.
	Region string
	Edge   string
	// Headers are the target URI's ?name=value headers, decoded, in
	// order. Only X-* and the few headers Twilio allows are accepted.
	Headers []Header
	// Username and Password answer the target's digest challenge (the
	// <Sip> attributes). They are never part of the URI.
	Username string
	Password string
	// Timeout is how long the target may ring (<Dial timeout>).
	Timeout time.Duration
	// TimeLimit bounds a bridged call (<Dial timeLimit>).
	TimeLimit time.Duration
	// CallerID is the user part of the forwarded call's From
	// (<Dial callerId>): letters, digits and "+-_." only. Empty means
	// the original caller's.
	CallerID string
	// AnswerOnBridge answers the caller only when the target answers.
	AnswerOnBridge bool
	// HangupOnStar lets the caller press * to leave the bridge and return
	// to the agent.
	HangupOnStar bool
	// Mode is refer, bridge or auto; "" means the configured default.
	// ParseTarget leaves it empty; ParseTwiML sets bridge for <Dial> and
	// refer for <Refer>.
	Mode Mode
}

// defaultTransport is the transport of a URI without ;transport=.
func defaultTransport(scheme string) string {
	if scheme == "sips" {
		return TransportTLS
	}
	return TransportUDP
}

// defaultPort is the port a target without one is reached on when DNS
// gives no other (RFC 3263): 5061 over TLS, else 5060.
func (t Target) defaultPort() int {
	if t.URI.Scheme == "sips" || t.Transport == TransportTLS {
		return 5061
	}
	return 5060
}

// String returns the target URI for logs: scheme, user, host, port and
// parameters, including transport, secure, region and edge, but never
// the password or the headers (whose values may be private).
func (t Target) String() string {
	if t.Client != "" {
		return clientScheme + t.Client
	}
	var b strings.Builder
	t.writeURI(&b)
	if t.Secure {
		b.WriteString(";secure=true")
	}
	if t.Region != "" {
		b.WriteString(";region=")
		b.WriteString(t.Region)
	}
	if t.Edge != "" {
		b.WriteString(";edge=")
		b.WriteString(t.Edge)
	}
	return b.String()
}

// ReferTo returns the value of a REFER's Refer-To header that sends the
// caller to the target: the URI in angle brackets with the headers in its
// ?part (RFC 3515 s.2.1: headers the new INVITE should carry ride in the
// Refer-To URI). Header names and values are %-escaped as RFC 3261
// s.19.1.1 wants, and more: every byte but alphanumerics and "-_.~", so
// no parser splits a value at '&', '>' or '@'.
//
// Secure, Region and Edge are left out: they are requests to Twilio's
// edge about the call it places, and the referee places this one.
func (t Target) ReferTo() string {
	var b strings.Builder
	b.WriteByte('<')
	t.writeURI(&b)
	writeHeaders(&b, t.Headers)
	b.WriteByte('>')
	return b.String()
}

// writeURI writes scheme:user@host:port;params, with ;transport= when it
// is not the scheme's default. It writes the fields itself rather than
// use sip.Uri.String, which would quote parameter values with spaces and
// add the password and headers.
func (t Target) writeURI(b *strings.Builder) {
	scheme := t.URI.Scheme
	if scheme == "" {
		scheme = "sip"
	}
	b.WriteString(scheme)
	b.WriteByte(':')
	if t.URI.User != "" {
		b.WriteString(t.URI.User)
		b.WriteByte('@')
	}
	b.WriteString(t.URI.Host)
	if t.URI.Port > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(t.URI.Port))
	}
	// Flags (parameters without a value, like lr) go first: sipgo reads
	// a flag right before '?' as a name running into the headers, and
	// RFC 3261 s.19.1.4 makes the order of parameters meaningless.
	for _, kv := range t.URI.UriParams {
		if kv.V == "" {
			b.WriteByte(';')
			b.WriteString(kv.K)
		}
	}
	for _, kv := range t.URI.UriParams {
		if kv.V != "" {
			b.WriteByte(';')
			b.WriteString(kv.K)
			b.WriteByte('=')
			b.WriteString(kv.V)
		}
	}
	if t.Transport != "" && t.Transport != defaultTransport(scheme) {
		b.WriteString(";transport=")
		b.WriteString(t.Transport)
	}
}

// ParseMode reads a mode as config (forward_mode) and
// agent.TransferRequest give it: refer, bridge, auto, or "" for the
// configured default.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case "", ModeRefer, ModeBridge, ModeAuto:
		return m, nil
	}
	return "", fmt.Errorf("transfer: mode %s: want refer, bridge or auto", quoteShort(s))
}
