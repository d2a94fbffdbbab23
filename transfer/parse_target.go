package transfer

import (
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// ParseTarget reads a target URI as <Sip> gives it:
//
//	sip[s]:[user@]host[:port][;param[=value]]...[?name=value[&name=value]...]
//
// or a user registered to sipagent as client:NAME.
//
// for example sip:jack@example.com;transport=tcp or
// sip:sales@example.com;region=ie1?X-Ticket=42. The Target has the
// defaults of <Dial>: 30 s ring timeout, 4 h time limit, and Mode "".
//
// Parsing follows RFC 3261 s.19.1.1 and Twilio's limits, strictly,
// because the values end up in SIP requests and the allow-list must see
// the same destination as every parser after it:
//   - only sip: and sips:, at most 254 characters before '?' and 1023
//     after it, ASCII without spaces or control characters; %-escapes
//     must not decode to control characters (so no CR LF injection);
//   - no password in the URI (use the <Sip> username and password);
//     no ';' or '?' in the user part and one '@' at most;
//   - transport is udp, tcp or tls (not udp with sips:), secure is true
//     or false; maddr is refused (it would send the call to another
//     host than the one the allow-list checked) and so is a method other
//     than INVITE; a parameter may appear once;
//   - headers are name=value pairs, X-* or User-to-User,
//     Remote-Party-ID, P-Preferred-Identity, P-Called-Party-ID; values
//     are decoded and must be UTF-8 text.
//
// The user part is stored in canonical form: escapes of unreserved
// characters decoded (%73ales is sales), other escapes in upper case.
//
// Errors are *TargetError.
func ParseTarget(uri string) (Target, error) {
	t, err := parseTarget(uri)
	if err != nil {
		return Target{}, &TargetError{URI: redact(uri), Reason: err.Error()}
	}
	return t, nil
}

func parseTarget(s string) (Target, error) {
	if s == "" {
		return Target{}, fmt.Errorf("empty")
	}
	if len(s) > len(clientScheme) && strings.EqualFold(s[:len(clientScheme)], clientScheme) {
		t := Target{Client: s[len(clientScheme):], Timeout: DefaultTimeout, TimeLimit: DefaultTimeLimit}
		if err := checkClientName(t.Client); err != nil {
			return Target{}, err
		}
		return t, nil
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return Target{}, fmt.Errorf("character %q at offset %d is not allowed in a SIP URI", c, i)
		}
	}
	uriLen, headersLen := len(s), 0
	if q := strings.IndexByte(s, '?'); q >= 0 {
		uriLen, headersLen = q, len(s)-q-1
	}
	if uriLen > MaxURILength {
		return Target{}, fmt.Errorf("%d characters before the headers; the limit is %d", uriLen, MaxURILength)
	}
	if headersLen > MaxHeadersLength {
		return Target{}, fmt.Errorf("headers are %d characters; the limit is %d", headersLen, MaxHeadersLength)
	}
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok {
		return Target{}, fmt.Errorf("not a sip: or sips: URI")
	}
	scheme = strings.ToLower(scheme)
	if scheme != "sip" && scheme != "sips" {
		return Target{}, fmt.Errorf("scheme %q: want sip or sips", scheme)
	}
	if strings.HasPrefix(rest, "//") {
		return Target{}, fmt.Errorf("'//' after the scheme")
	}
	t := Target{
		URI:       sip.Uri{Scheme: scheme},
		Timeout:   DefaultTimeout,
		TimeLimit: DefaultTimeLimit,
	}

	rest, err := t.parseUser(rest)
	if err != nil {
		return Target{}, err
	}
	rest, rawHeaders, hasHeaders := strings.Cut(rest, "?")
	hostport, params, hasParams := strings.Cut(rest, ";")
	host, port, err := splitHostPort(hostport)
	if err != nil {
		return Target{}, err
	}
	if _, err := parseHost(host); err != nil {
		return Target{}, err
	}
	t.URI.Host, t.URI.Port = host, port
	if hasParams {
		if err := t.parseParams(params); err != nil {
			return Target{}, err
		}
	}
	if t.Transport == "" {
		t.Transport = defaultTransport(scheme)
	}
	if hasHeaders {
		if t.Headers, err = parseHeaders(rawHeaders); err != nil {
			return Target{}, err
		}
	}
	// The rules above imply Validate's; checking here too means
	// ParseTarget never returns a Target that Validate refuses.
	if err := t.validate(); err != nil {
		return Target{}, err
	}
	return t, nil
}

// parseUser reads the user part, if any, from what follows the scheme
// and returns the rest.
func (t *Target) parseUser(rest string) (string, error) {
	// One '@' at most: none may appear unescaped after the user part, so
	// a second one means the URI reads differently to different parsers.
	if strings.Count(rest, "@") > 1 {
		return "", fmt.Errorf("more than one '@' (escape it as %%40)")
	}
	userinfo, after, ok := strings.Cut(rest, "@")
	if !ok {
		return rest, nil
	}
	if i := strings.IndexAny(userinfo, ";?"); i >= 0 {
		return "", fmt.Errorf("%q in the user part", userinfo[i])
	}
	if strings.Contains(userinfo, ":") {
		return "", fmt.Errorf("a password in the URI is not allowed; use the <Sip> username and password attributes")
	}
	user, err := canonicalUser(userinfo)
	if err != nil {
		return "", err
	}
	t.URI.User = user
	return after, nil
}

// parseParams reads the URI parameters (after the first ';'), moving
// Twilio's into their fields.
func (t *Target) parseParams(s string) error {
	seen := make(map[string]bool)
	for field := range strings.SplitSeq(s, ";") {
		name, value, hasValue := strings.Cut(field, "=")
		if name == "" {
			return fmt.Errorf("empty parameter")
		}
		if err := checkEscaped(name, paramExtra); err != nil {
			return fmt.Errorf("parameter name %q: %w", name, err)
		}
		if hasValue && value == "" {
			return fmt.Errorf("parameter %s: empty value", name)
		}
		if err := checkEscaped(value, paramExtra); err != nil {
			return fmt.Errorf("parameter %s: %w", name, err)
		}
		// Parameter names compare without case (RFC 3261 s.19.1.4); a
		// repeated one may be read first or last by the next parser.
		key := strings.ToLower(name)
		if seen[key] {
			return fmt.Errorf("parameter %s given twice", name)
		}
		seen[key] = true
		if err := t.setParam(key, name, value); err != nil {
			return err
		}
	}
	return nil
}

// setParam stores one parameter: Twilio's in their fields, the rest in
// the URI after refusing those that would route the call elsewhere.
func (t *Target) setParam(key, name, value string) error {
	switch key {
	case "transport":
		tr := strings.ToLower(value)
		switch tr {
		case TransportUDP, TransportTCP, TransportTLS:
		default:
			return fmt.Errorf("transport %q: want udp, tcp or tls", value)
		}
		if tr == TransportUDP && t.URI.Scheme == "sips" {
			return fmt.Errorf("transport udp with sips: (sips needs TLS)")
		}
		t.Transport = tr
	case "secure":
		switch strings.ToLower(value) {
		case "true":
			t.Secure = true
		case "false":
			t.Secure = false
		default:
			return fmt.Errorf("secure %q: want true or false", value)
		}
	case "region", "edge":
		if err := checkHint(key, value); err != nil {
			return err
		}
		if key == "region" {
			t.Region = value
		} else {
			t.Edge = value
		}
	default:
		if err := checkOtherParam(key, value); err != nil {
			return err
		}
		t.URI.UriParams = append(t.URI.UriParams, sip.HeaderKV{K: name, V: value})
	}
	return nil
}

// checkHint checks a region or edge name: letters, digits, '-', '_'
// and '.'.
func checkHint(key, value string) error {
	if value == "" {
		return fmt.Errorf("%s: want a name", key)
	}
	for i := 0; i < len(value); i++ {
		if c := value[i]; !isAlphaNum(c) && strings.IndexByte("-_.", c) < 0 {
			return fmt.Errorf("%s %q: character %q is not allowed", key, value, c)
		}
	}
	return nil
}

// checkOtherParam refuses the URI parameters that would change the call
// rather than describe it: maddr overrides the host the allow-list
// checked (RFC 3261 s.19.1.1, and a referee honours it), and method
// would make the referee send something other than an INVITE.
// Twilio's own parameters are handled by setParam.
func checkOtherParam(key, value string) error {
	switch key {
	case "maddr":
		return fmt.Errorf("maddr is not allowed: it would send the call to another host than the URI's")
	case "method":
		if !strings.EqualFold(value, "INVITE") {
			return fmt.Errorf("method %q is not allowed: a target is called with INVITE", value)
		}
	}
	return nil
}

// redact hides a password in a URI's user part before the URI is quoted
// in an error: ParseTarget refuses such URIs, and says why, but should
// not print the secret to the log.
func redact(uri string) string {
	scheme, rest, ok := strings.Cut(uri, ":")
	if !ok {
		return uri
	}
	at := strings.IndexByte(rest, '@')
	if at < 0 {
		return uri
	}
	colon := strings.IndexByte(rest[:at], ':')
	if colon < 0 {
		return uri
	}
	return scheme + ":" + rest[:colon] + ":***" + rest[at:]
}
