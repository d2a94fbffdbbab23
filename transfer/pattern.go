package transfer

import (
	"fmt"
	"net/netip"
	"strings"
)

// pattern is one entry of transfer.allow.
type pattern struct {
	// scheme is "sip" (matches sip: and sips: targets), "sips" (sips:
	// only) or "" for a domain pattern (both).
	scheme string
	// anyUser is set for a domain pattern: any user part, or none.
	anyUser bool
	// user is the user glob split at '*', each piece in canonical form:
	// one piece is an exact user ("" for none), more pieces have a '*'
	// between each two.
	user []string
	// host is the lower-case host without a trailing dot; for a
	// subdomain pattern the part after "*.". ip is set for an address.
	host       string
	ip         netip.Addr
	subdomains bool
	port       int // 0: any port
}

// parsePattern reads one allow-list entry:
//
//	example.com            any user at example.com, any port, sip or sips
//	*.example.com          the same at any subdomain (not example.com)
//	example.com:5080       only port 5080
//	sip:sales@example.com  only that user (sip: or sips:)
//	sip:*@example.com      any user, or none
//	sip:+1555*@trunk.example  users starting +1555
//	sips:*@example.com     sips: targets only
//	sip:example.com        the host itself, no user part
func parsePattern(s string) (pattern, error) {
	if s == "" {
		return pattern{}, fmt.Errorf("empty pattern")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return pattern{}, fmt.Errorf("character %q is not allowed", c)
		}
	}
	if i := strings.IndexAny(s, ";?"); i >= 0 {
		return pattern{}, fmt.Errorf("%q: parameters and headers are never matched (the caller controls them); remove them", s[i:])
	}
	var p pattern
	hostport := s
	if scheme, rest, ok := strings.Cut(s, ":"); ok && (strings.EqualFold(scheme, "sip") || strings.EqualFold(scheme, "sips")) {
		p.scheme = strings.ToLower(scheme)
		hostport = rest
		if userinfo, after, ok := strings.Cut(rest, "@"); ok {
			var err error
			if p.user, err = parseUserGlob(userinfo); err != nil {
				return pattern{}, err
			}
			hostport = after
		} else {
			p.user = []string{""}
		}
	} else {
		if ok && !strings.HasPrefix(s, "[") && !isPort(rest) {
			return pattern{}, fmt.Errorf("scheme %q: want sip:, sips: or a bare domain", scheme)
		}
		if strings.Contains(s, "@") {
			return pattern{}, fmt.Errorf("a user needs the URI form, e.g. sip:%s", s)
		}
		p.anyUser = true
	}
	if strings.Contains(hostport, "@") {
		return pattern{}, fmt.Errorf("more than one '@'")
	}
	host, port, err := splitHostPort(hostport)
	if err != nil {
		return pattern{}, err
	}
	p.port = port
	if rest, ok := strings.CutPrefix(host, "*."); ok {
		if err := checkHostname(rest); err != nil {
			return pattern{}, fmt.Errorf("host %q: %w", host, err)
		}
		rest = strings.ToLower(strings.TrimSuffix(rest, "."))
		if !strings.Contains(rest, ".") {
			return pattern{}, fmt.Errorf("host %q: too broad; name a domain under a top-level domain", host)
		}
		p.host, p.subdomains = rest, true
		return p, nil
	}
	if strings.Contains(host, "*") {
		return pattern{}, fmt.Errorf("host %q: '*' may only stand for the leading labels, as in *.example.com", host)
	}
	if p.ip, err = parseHost(host); err != nil {
		return pattern{}, err
	}
	p.host = strings.ToLower(strings.TrimSuffix(host, "."))
	return p, nil
}

// parseUserGlob splits a pattern's user part at '*' and puts each piece
// in canonical form, so an escaped star (%2A) stays a literal one.
func parseUserGlob(user string) ([]string, error) {
	if user == "" {
		return nil, fmt.Errorf("empty user part; leave out the '@' for the host alone")
	}
	if strings.Contains(user, ":") {
		return nil, fmt.Errorf("a password in a pattern is not allowed")
	}
	pieces := strings.Split(user, "*")
	for i, piece := range pieces {
		if piece == "" {
			continue
		}
		c, err := canonicalUser(piece)
		if err != nil {
			return nil, err
		}
		pieces[i] = c
	}
	return pieces, nil
}

// match reports whether a valid target matches the pattern.
func (p pattern) match(t Target) bool {
	u := &t.URI
	if p.scheme == "sips" && u.Scheme != "sips" {
		return false
	}
	if p.port != 0 {
		port := u.Port
		if port == 0 {
			port = t.defaultPort()
		}
		if port != p.port {
			return false
		}
	}
	if !p.matchHost(u.Host) {
		return false
	}
	if p.anyUser {
		return true
	}
	// u.User passed Validate, so it has a canonical form.
	user, _ := canonicalUser(u.User)
	return globMatch(p.user, user)
}

// matchHost compares hosts: addresses as addresses (so [::ffff:10.0.0.1]
// is 10.0.0.1), names without regard to case or a trailing dot, and a
// subdomain pattern label by label: *.example.com matches
// a.example.com and a.b.example.com, never example.com.evil.com or
// badexample.com.
func (p pattern) matchHost(host string) bool {
	ip, err := parseHost(host)
	if err != nil {
		return false
	}
	if p.ip.IsValid() || ip.IsValid() {
		return p.ip.IsValid() && ip.IsValid() && p.ip.Unmap() == ip.Unmap()
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if p.subdomains {
		return strings.HasSuffix(name, "."+p.host)
	}
	return name == p.host
}

// globMatch matches s against pieces that had '*' between them. A '*'
// matches any run of characters, the empty one too.
func globMatch(pieces []string, s string) bool {
	if len(pieces) == 1 {
		return s == pieces[0]
	}
	first, last := pieces[0], pieces[len(pieces)-1]
	if !strings.HasPrefix(s, first) {
		return false
	}
	s = s[len(first):]
	if !strings.HasSuffix(s, last) {
		return false
	}
	s = s[:len(s)-len(last)]
	for _, mid := range pieces[1 : len(pieces)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return true
}

// isPort reports a string of digits, as after "host:".
func isPort(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}
