package transfer

import (
	"fmt"
	"strings"
)

// Validate checks a Target built or changed in code against the rules
// ParseTarget applies to the URI, and the ranges of the other fields:
// Timeout up to MaxTimeout, TimeLimit up to MaxTimeLimit (both above 0;
// ParseTarget's defaults pass), CallerID of letters, digits and "+-_.",
// credentials without control characters, and a known Mode. A Target
// that passes is safe to copy into SIP requests. Errors are
// *TargetError.
func (t Target) Validate() error {
	if err := t.validate(); err != nil {
		return &TargetError{URI: t.String(), Reason: err.Error()}
	}
	return nil
}

func (t Target) validate() error {
	if err := t.validateURI(); err != nil {
		return err
	}
	if t.Region != "" {
		if err := checkHint("region", t.Region); err != nil {
			return err
		}
	}
	if t.Edge != "" {
		if err := checkHint("edge", t.Edge); err != nil {
			return err
		}
	}
	size := 0
	for _, h := range t.Headers {
		if err := checkHeader(h); err != nil {
			return err
		}
		size += len(h.Name) + len(h.Value) + 2
	}
	if size > MaxHeadersLength+1 {
		return fmt.Errorf("headers take %d characters; the limit is %d", size-1, MaxHeadersLength)
	}
	if err := checkCredentials(t.Username, t.Password); err != nil {
		return err
	}
	if t.Timeout <= 0 || t.Timeout > MaxTimeout {
		return fmt.Errorf("timeout %v: want more than 0 and at most %v", t.Timeout, MaxTimeout)
	}
	if t.TimeLimit <= 0 || t.TimeLimit > MaxTimeLimit {
		return fmt.Errorf("time limit %v: want more than 0 and at most %v", t.TimeLimit, MaxTimeLimit)
	}
	if err := checkCallerID(t.CallerID); err != nil {
		return err
	}
	switch t.Mode {
	case "", ModeRefer, ModeBridge, ModeAuto:
	default:
		return fmt.Errorf("mode %q: want refer, bridge or auto", t.Mode)
	}
	return nil
}

// validateURI checks the destination: what the allow-list compares and
// what goes into the Request-URI and Refer-To.
func (t Target) validateURI() error {
	if t.Client != "" {
		return t.validateClient()
	}
	u := &t.URI
	if u.Scheme != "sip" && u.Scheme != "sips" {
		return fmt.Errorf("scheme %q: want sip or sips", u.Scheme)
	}
	if u.Raw() != "" || u.Wildcard || u.HierarhicalSlashes {
		return fmt.Errorf("not a plain SIP URI")
	}
	if u.Password != "" {
		return fmt.Errorf("a password in the URI is not allowed; set Username and Password")
	}
	if len(u.Headers) > 0 {
		return fmt.Errorf("headers in the URI; set Target.Headers")
	}
	if u.User != "" {
		if _, err := canonicalUser(u.User); err != nil {
			return err
		}
	}
	if _, err := parseHost(u.Host); err != nil {
		return err
	}
	if u.Port < 0 || u.Port > 65535 {
		return fmt.Errorf("port %d: want 1 to 65535", u.Port)
	}
	switch t.Transport {
	case TransportUDP, TransportTCP, TransportTLS:
	default:
		return fmt.Errorf("transport %q: want udp, tcp or tls", t.Transport)
	}
	if t.Transport == TransportUDP && u.Scheme == "sips" {
		return fmt.Errorf("transport udp with sips: (sips needs TLS)")
	}
	seen := make(map[string]bool)
	for _, kv := range u.UriParams {
		key := strings.ToLower(kv.K)
		if kv.K == "" {
			return fmt.Errorf("empty parameter")
		}
		if err := checkEscaped(kv.K, paramExtra); err != nil {
			return fmt.Errorf("parameter name %q: %w", kv.K, err)
		}
		if err := checkEscaped(kv.V, paramExtra); err != nil {
			return fmt.Errorf("parameter %s: %w", kv.K, err)
		}
		switch key {
		case "transport", "secure", "region", "edge":
			return fmt.Errorf("parameter %s in the URI; set the Target field", kv.K)
		}
		if err := checkOtherParam(key, kv.V); err != nil {
			return err
		}
		if seen[key] {
			return fmt.Errorf("parameter %s given twice", kv.K)
		}
		seen[key] = true
	}
	if n := len(t.String()); n > MaxURILength {
		return fmt.Errorf("%d characters; the limit is %d", n, MaxURILength)
	}
	return nil
}

// checkCredentials checks digest credentials: both or neither, bounded,
// without control characters, and a username without the quote and
// backslash that would end its quoted-string in Authorization.
func checkCredentials(username, password string) error {
	if (username == "") != (password == "") {
		return fmt.Errorf("username and password go together")
	}
	if len(username) > maxCredential || len(password) > maxCredential {
		return fmt.Errorf("username or password longer than %d characters", maxCredential)
	}
	for i := 0; i < len(username); i++ {
		if c := username[i]; isCtl(c) || c == '"' || c == '\\' {
			return fmt.Errorf("username: character %q is not allowed", c)
		}
	}
	for i := 0; i < len(password); i++ {
		if isCtl(password[i]) {
			return fmt.Errorf("password: control characters are not allowed")
		}
	}
	return nil
}

// checkCallerID checks a SIP caller ID: Twilio allows letters, digits and
// "+-_." for SIP.
func checkCallerID(id string) error {
	return checkName("caller ID", id)
}

// checkName checks s, the what of a target: at most maxCallerID
// letters, digits and "+-_.".
func checkName(what, s string) error {
	if len(s) > maxCallerID {
		return fmt.Errorf("%s %s: longer than %d characters", what, quoteShort(s), maxCallerID)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlphaNum(c) && strings.IndexByte("+-_.", c) < 0 {
			return fmt.Errorf("%s %q: character %q is not allowed (letters, digits and +-_. only)", what, s, c)
		}
	}
	return nil
}

// validateClient checks a registered user's target: a name as the
// registrar keeps them, and nothing that belongs to a URI.
func (t Target) validateClient() error {
	if err := checkClientName(t.Client); err != nil {
		return err
	}
	if t.URI.Scheme != "" || t.URI.Host != "" || t.Transport != "" || t.Secure || t.Region != "" || t.Edge != "" || len(t.Headers) > 0 {
		return fmt.Errorf("client %q: a URI, transport, hints or headers do not apply to a registered user", t.Client)
	}
	if t.Username != "" || t.Password != "" {
		// They would answer the challenge of whoever registered as
		// that user.
		return fmt.Errorf("client %q: credentials are for SIP targets, not registered users", t.Client)
	}
	return nil
}

// checkClientName checks a registered user's name: 1 to 64 letters,
// digits and "+-_." (what sipagent's users may be called).
func checkClientName(name string) error {
	if name == "" {
		return fmt.Errorf("client: no name")
	}
	return checkName("client", name)
}
