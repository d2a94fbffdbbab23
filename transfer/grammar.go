package transfer

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Character classes of the SIP URI grammar, RFC 3261 s.25.1.

func isAlpha(c byte) bool    { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool    { return '0' <= c && c <= '9' }
func isAlphaNum(c byte) bool { return isAlpha(c) || isDigit(c) }
func isHex(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// isUnreserved is RFC 3261's unreserved: alphanum / mark.
func isUnreserved(c byte) bool {
	return isAlphaNum(c) || strings.IndexByte("-_.!~*'()", c) >= 0
}

// isCtl reports ASCII control characters, which never belong in a value
// that is copied into a SIP message.
func isCtl(c byte) bool { return c < 0x20 || c == 0x7f }

// Characters allowed unescaped besides unreserved, per part of the URI.
// Each is RFC 3261's set, narrowed where noted.
const (
	// user-unreserved without ';' and '?': both may end the user part for
	// a parser that does not look ahead for '@', so a user holding them
	// could read as a different user and host to the far end.
	userExtra = "&=+$,/"
	// param-unreserved without '[' and ']': sipgo takes a '[' before any
	// '@' for the start of an IPv6 host.
	paramExtra = ":/&+$"
	// hnv-unreserved.
	headerExtra = "[]/?:+$"
)

// checkEscaped reports the first byte of s that is neither unreserved,
// in extra, nor part of a %HH escape, and any escape that decodes to a
// control character.
func checkEscaped(s, extra string) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return fmt.Errorf("%q at offset %d is not a %%HH escape", s[i:min(i+3, len(s))], i)
			}
			if d := unhex(s[i+1])<<4 | unhex(s[i+2]); isCtl(d) {
				return fmt.Errorf("%q decodes to a control character", s[i:i+3])
			}
			i += 2
		case isUnreserved(c) || strings.IndexByte(extra, c) >= 0:
		default:
			return fmt.Errorf("character %q must be %%-escaped", c)
		}
	}
	return nil
}

func unhex(c byte) byte {
	switch {
	case isDigit(c):
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// unescape decodes the %HH escapes of s, which checkEscaped accepted.
// '+' stays '+': SIP URIs are not form-encoded.
func unescape(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// escapeStrict %-escapes every byte of s but alphanumerics and "-_.~":
// RFC 3986's unreserved set, which every URI parser leaves alone, so the
// result reads the same to any of them.
func escapeStrict(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlphaNum(c) || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
	return b.String()
}

// canonicalUser checks a URI user part and returns its canonical form:
// escapes of unreserved characters decoded and the other escapes in
// upper case. RFC 3261 s.19.1.4 makes the two forms the same user, so the
// allow-list compares canonical forms and cannot be dodged with %73ales
// for sales.
func canonicalUser(user string) (string, error) {
	if user == "" {
		return "", fmt.Errorf("empty user part")
	}
	if err := checkEscaped(user, userExtra); err != nil {
		return "", fmt.Errorf("user part: %w", err)
	}
	if strings.IndexByte(user, '%') < 0 {
		return user, nil
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(user))
	for i := 0; i < len(user); i++ {
		if user[i] != '%' {
			b.WriteByte(user[i])
			continue
		}
		d := unhex(user[i+1])<<4 | unhex(user[i+2])
		i += 2
		if isUnreserved(d) {
			b.WriteByte(d)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[d>>4])
		b.WriteByte(hex[d&0xf])
	}
	return b.String(), nil
}

// parseHost checks a URI host: a hostname, an IPv4 address or an IPv6
// reference in brackets. For an IP address it also returns the address.
func parseHost(host string) (netip.Addr, error) {
	if host == "" {
		return netip.Addr{}, fmt.Errorf("empty host")
	}
	if inner, ok := strings.CutPrefix(host, "["); ok {
		inner, ok = strings.CutSuffix(inner, "]")
		if !ok {
			return netip.Addr{}, fmt.Errorf("host %q: IPv6 reference without ']'", host)
		}
		ip, err := netip.ParseAddr(inner)
		if err != nil || !ip.Is6() || ip.Zone() != "" {
			return netip.Addr{}, fmt.Errorf("host %q: not an IPv6 address (zones are not allowed)", host)
		}
		return ip, nil
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.Is4() {
		return ip, nil
	}
	if err := checkHostname(host); err != nil {
		return netip.Addr{}, fmt.Errorf("host %q: %w", host, err)
	}
	return netip.Addr{}, nil
}

// checkHostname checks RFC 3261's hostname: dot-separated labels of
// letters, digits and inner hyphens, the last starting with a letter (so
// 10.0.0.300 or 2130706433 is neither an address nor a name), with an
// optional trailing dot.
func checkHostname(host string) error {
	name := strings.TrimSuffix(host, ".")
	if len(name) > 253 {
		return fmt.Errorf("longer than 253 characters")
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return fmt.Errorf("label %q: want 1 to 63 characters", l)
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("label %q starts or ends with '-'", l)
		}
		for i := 0; i < len(l); i++ {
			if !isAlphaNum(l[i]) && l[i] != '-' {
				return fmt.Errorf("character %q is not allowed in a host name", l[i])
			}
		}
	}
	if !isAlpha(labels[len(labels)-1][0]) {
		return fmt.Errorf("not an IP address, and the last label does not start with a letter")
	}
	return nil
}

// parsePort reads a port: 1 to 5 digits, 1 to 65535. strconv.Atoi alone
// would take "+5060".
func parsePort(s string) (int, error) {
	if s == "" || len(s) > 5 {
		return 0, fmt.Errorf("port %q: want 1 to 65535", s)
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, fmt.Errorf("port %q: want 1 to 65535", s)
		}
	}
	p, _ := strconv.Atoi(s)
	if p < 1 || p > 65535 {
		return 0, fmt.Errorf("port %q: want 1 to 65535", s)
	}
	return p, nil
}

// splitHostPort splits "host[:port]", where host may be an IPv6
// reference in brackets. Port 0 means none was given.
func splitHostPort(s string) (host string, port int, err error) {
	var portStr string
	var hasPort bool
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", 0, fmt.Errorf("host %q: IPv6 reference without ']'", s)
		}
		host = s[:end+1]
		if rest := s[end+1:]; rest != "" {
			portStr, hasPort = strings.CutPrefix(rest, ":")
			if !hasPort {
				return "", 0, fmt.Errorf("%q after the IPv6 reference", rest)
			}
		}
	} else {
		host, portStr, hasPort = strings.Cut(s, ":")
	}
	if hasPort {
		if port, err = parsePort(portStr); err != nil {
			return "", 0, err
		}
	}
	return host, port, nil
}

// quoteShort quotes s for an error message, cut to a length a log line
// can carry.
func quoteShort(s string) string {
	const limit = 300
	if len(s) > limit {
		return strconv.Quote(s[:limit]) + "..."
	}
	return strconv.Quote(s)
}
