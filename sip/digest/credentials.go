package digest

import (
	"errors"
	"fmt"
	"strings"
)

// MaxCredentialsLen caps the Authorization value [Server.Check] will
// parse. Real credentials are a few hundred bytes; anything near this is
// an attack or a broken client.
const MaxCredentialsLen = 4096

// credentials are the digest-response parameters (RFC 3261 s.25.1) the
// server reads. Values alias the header unless they held quoted-pairs.
type credentials struct {
	username, realm, nonce, uri, response string
	algorithm, cnonce, opaque, qop, nc    string
}

// parseCredentials parses a Digest Authorization value strictly: the
// scheme is case-insensitive, parameter names are case-insensitive, each
// value is a token or a quoted-string, and a known parameter given twice
// is an error (which of two realms or responses to believe is exactly the
// ambiguity an attacker wants). Unknown parameters are ignored. It never
// panics and allocates only to unescape quoted-pairs and for errors.
func parseCredentials(h string) (credentials, error) {
	var c credentials
	if len(h) > MaxCredentialsLen {
		return c, fmt.Errorf("%w: %d bytes, limit %d", errMalformed, len(h), MaxCredentialsLen)
	}
	s := trimLWS(h)
	const scheme = "Digest"
	if len(s) <= len(scheme) || !strings.EqualFold(s[:len(scheme)], scheme) || !isLWS(s[len(scheme)]) {
		return c, fmt.Errorf("%w: not a Digest scheme", errMalformed)
	}
	s = trimLWS(s[len(scheme):])
	var seen uint16
	for {
		key, rest := cutToken(s)
		if key == "" {
			return c, fmt.Errorf("%w: expected a parameter name", errMalformed)
		}
		rest = trimLWS(rest)
		if rest == "" || rest[0] != '=' {
			return c, fmt.Errorf("%w: expected '=' after %.32q", errMalformed, key)
		}
		rest = trimLWS(rest[1:])
		var val string
		var err error
		if rest != "" && rest[0] == '"' {
			val, rest, err = cutQuoted(rest)
			if err != nil {
				return c, fmt.Errorf("%w: %.32q: %w", errMalformed, key, err)
			}
		} else if val, rest = cutToken(rest); val == "" {
			return c, fmt.Errorf("%w: empty value for %.32q", errMalformed, key)
		}
		if field, bit := c.field(key); field != nil {
			if seen&bit != 0 {
				return c, fmt.Errorf("%w: duplicate %.32q", errMalformed, key)
			}
			seen |= bit
			*field = val
		}
		rest = trimLWS(rest)
		if rest == "" {
			return c, nil
		}
		if rest[0] != ',' {
			return c, fmt.Errorf("%w: expected ',' after %.32q", errMalformed, key)
		}
		s = trimLWS(rest[1:])
	}
}

// field returns where a known parameter goes and its bit for duplicate
// detection, or nil for a parameter the server does not read.
func (c *credentials) field(key string) (*string, uint16) {
	fields := [...]struct {
		name string
		dst  *string
	}{
		{"username", &c.username}, {"realm", &c.realm}, {"nonce", &c.nonce},
		{"uri", &c.uri}, {"response", &c.response}, {"algorithm", &c.algorithm},
		{"cnonce", &c.cnonce}, {"opaque", &c.opaque}, {"qop", &c.qop}, {"nc", &c.nc},
	}
	for i, f := range fields {
		if strings.EqualFold(key, f.name) {
			return f.dst, 1 << i
		}
	}
	return nil, 0
}

func isLWS(b byte) bool { return b == ' ' || b == '\t' }

func trimLWS(s string) string {
	for s != "" && isLWS(s[0]) {
		s = s[1:]
	}
	for s != "" && isLWS(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// isTokenChar reports whether b may appear in an RFC 3261 s.25.1 token.
func isTokenChar(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte("-.!%*_+`'~", b) >= 0
}

// cutToken splits off the longest token prefix of s.
func cutToken(s string) (token, rest string) {
	i := 0
	for i < len(s) && isTokenChar(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

// cutQuoted splits off a quoted-string at the start of s (which begins
// with '"') and returns its unescaped content. Control characters other
// than HTAB are refused, inside quotes and after a backslash alike
// (RFC 3261 s.25.1 qdtext and quoted-pair).
func cutQuoted(s string) (val, rest string, err error) {
	escaped := false
	for i := 1; i < len(s); i++ {
		b := s[i]
		switch {
		case b < 0x20 && b != '\t', b == 0x7f:
			return "", "", fmt.Errorf("control character 0x%02x in quoted string", b)
		case b == '\\':
			if i+1 == len(s) || s[i+1] > 0x7f || (s[i+1] < 0x20 && s[i+1] != '\t') || s[i+1] == 0x7f {
				return "", "", errors.New("bad quoted-pair")
			}
			escaped = true
			i++
		case b == '"':
			val = s[1:i]
			if escaped {
				val = unescape(val)
			}
			return val, s[i+1:], nil
		}
	}
	return "", "", errors.New("unterminated quoted string")
}

// unescape removes the backslashes of quoted-pairs already validated by
// cutQuoted.
func unescape(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Username returns the username parameter of an Authorization value, or
// "" when the value does not parse. It lets a caller count failures per
// claimed user name; it authenticates nothing.
func Username(authorization string) string {
	c, err := parseCredentials(authorization)
	if err != nil {
		return ""
	}
	return c.username
}
