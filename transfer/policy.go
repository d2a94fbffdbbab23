package transfer

import "fmt"

// Policy is the toll-fraud allow-list: the destinations calls may be
// forwarded to (config key transfer.allow). Whatever a TwiML document, a
// flow or a caller's REFER asks for, a call goes nowhere a pattern does
// not allow. A nil or empty Policy denies every SIP URI.
//
// Users registered to sipagent (client:NAME targets) are always allowed:
// a call to one goes to a phone of this server's own users, listed in
// its configuration, and nowhere else.
//
// Only the destination is compared: scheme, user, host and port.
// Parameters and headers never count, since whoever wrote the target
// controls them (sip:sales@evil.com;host=example.com is evil.com), and
// the parameters that could move the call elsewhere, maddr among them,
// are refused by ParseTarget.
//
// Decisions:
//   - a sip: pattern matches sip: and sips: targets (sips is the same
//     destination over TLS); a sips: pattern only sips: targets; a domain
//     pattern both;
//   - users compare case-sensitively and in canonical form (%73ales is
//     sales, RFC 3261 s.19.1.4), hosts without regard to case or a
//     trailing dot, IP addresses as addresses;
//   - a pattern without a port matches any port; with one, a target
//     without a port matches if the default port for its transport
//     (5060, or 5061 for TLS) is the pattern's.
type Policy struct {
	patterns []pattern
	sources  []string
}

// NewPolicy checks the patterns and builds the allow-list. Patterns are
//
//	example.com               any user at example.com (or none)
//	*.example.com             any user at any subdomain, not example.com
//	sip:sales@pbx.example.com that user only
//	sip:*@example.com         any user (or none)
//	sip:+1555*@trunk.example  users starting +1555
//	sips:*@example.com        sips: targets only
//	sip:pbx.example.com       the host itself, without a user part
//
// with an optional :port after the host. '*' matches any run of
// characters in the user part (write %2A for a literal star), and stands
// for one or more leading labels of a host as "*." (with at least two
// labels after it). Parameters, headers, passwords and a bare "*" are
// refused. No patterns is a policy that denies everything.
func NewPolicy(patterns []string) (*Policy, error) {
	p := &Policy{}
	for i, s := range patterns {
		pat, err := parsePattern(s)
		if err != nil {
			return nil, fmt.Errorf("transfer: transfer.allow[%d] %s: %w", i, quoteShort(s), err)
		}
		p.patterns = append(p.patterns, pat)
		p.sources = append(p.sources, s)
	}
	return p, nil
}

// Allow returns nil if a pattern allows the target, else a *DeniedError.
// A target that fails Validate's URI checks is denied with the reason,
// so a Target built in code cannot slip past with a raw '@' in its user.
func (p *Policy) Allow(t Target) error {
	if err := t.validateURI(); err != nil {
		return &DeniedError{Target: t.String(), Reason: err}
	}
	if t.Client != "" {
		// sipagent's own registered users: calls to them stay on this
		// server, so they are no way out to a paid destination.
		return nil
	}
	if p != nil {
		for _, pat := range p.patterns {
			if pat.match(t) {
				return nil
			}
		}
	}
	return &DeniedError{Target: t.String()}
}

// Patterns returns the patterns as given, for logs.
func (p *Policy) Patterns() []string {
	if p == nil {
		return nil
	}
	return append([]string(nil), p.sources...)
}
