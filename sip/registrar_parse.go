package sip

// Parsing of REGISTER's Expires and Contact values for the registrar.

import (
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// ceilSeconds rounds d up to whole seconds, so a binding that has not
// expired is never reported with expires=0, which means removed.
func ceilSeconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}

// registerExpires reads the Expires header (s.20.19), if there is one.
func registerExpires(req *sip.Request) (time.Duration, bool, *StatusError) {
	hs := req.GetHeaders("Expires")
	if len(hs) == 0 {
		return 0, false, nil
	}
	if len(hs) > 1 { // Expires is single-valued
		return 0, false, statusErr(400, "Invalid Expires", errBadExpires)
	}
	e, ok := parseDeltaSeconds(hs[0].Value())
	if !ok {
		return 0, false, statusErr(400, "Invalid Expires", errBadExpires)
	}
	return e, true, nil
}

// contactExpires returns the contact's expires parameter. Parameter names
// are case-insensitive (s.7.3.1).
func contactExpires(c *sip.ContactHeader) (string, bool) {
	for _, kv := range c.Params {
		if strings.EqualFold(strings.TrimSpace(kv.K), "expires") {
			return kv.V, true
		}
	}
	return "", false
}

// parseDeltaSeconds reads delta-seconds, 1*DIGIT (s.25.1); values above
// 2**32-1 are read as 2**32-1 (s.20.19).
func parseDeltaSeconds(s string) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n <= maxDeltaSeconds {
			n = n*10 + uint64(c-'0')
		}
	}
	return time.Duration(min(n, maxDeltaSeconds)) * time.Second, true
}

// registerContacts returns the Contact header values of req, one per
// contact. sipgo's parser splits comma-separated values and the compact
// form m into *sip.ContactHeader; a Contact added to a request as a
// generic header is parsed here the same way.
func registerContacts(req *sip.Request) ([]*sip.ContactHeader, error) {
	var out []*sip.ContactHeader
	for _, h := range req.Headers() {
		name := h.Name()
		if !strings.EqualFold(name, "Contact") && !strings.EqualFold(name, "m") {
			continue
		}
		if c, ok := h.(*sip.ContactHeader); ok {
			out = append(out, c)
			continue
		}
		parsed, err := sip.HeadersParser(sip.DefaultHeadersParser()).ParseHeader(nil, []byte("Contact: "+h.Value()))
		if err != nil {
			return nil, err
		}
		for _, p := range parsed {
			if c, ok := p.(*sip.ContactHeader); ok {
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// validContactURI reports whether u can be stored and listed back in a
// 200: it has a scheme (RFC 3986 s.3.1; sipgo takes ":x" as a URI), a
// host if it is SIP or SIPS (RFC 3261 s.19.1.1), and sipgo prints it as
// text that fits between < and > and parses back to the same URI. sipgo
// keeps the rest of a non-SIP URI as it came, "<" and ">" included.
func validContactURI(u *sip.Uri) bool {
	if u.Scheme == "" || !isASCIILetter(u.Scheme[0]) {
		return false
	}
	for i := 1; i < len(u.Scheme); i++ {
		if c := u.Scheme[i]; !isASCIILetter(c) && (c < '0' || c > '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	if u.Scheme == "sip" || u.Scheme == "sips" {
		if u.Host == "" {
			return false
		}
	} else if u.Raw() == "" {
		return false
	}
	text := u.String()
	for i := 0; i < len(text); i++ {
		if c := text[i]; c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == '"' {
			return false
		}
	}
	var back sip.Uri
	return sip.ParseUri(text, &back) == nil && sameBindingURI(u, &back)
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// sameUser compares URI user parts: case-sensitively, with %HH escapes
// equal to the characters they encode (s.19.1.4).
func sameUser(a, b string) bool {
	if a == b {
		return true
	}
	if !strings.Contains(a, "%") && !strings.Contains(b, "%") {
		return false
	}
	ua, errA := url.PathUnescape(a)
	ub, errB := url.PathUnescape(b)
	return errA == nil && errB == nil && ua == ub
}

// sameBindingURI reports whether two contact URIs name the same binding,
// following s.19.1.4 closely enough for a registrar: scheme and host
// case-insensitively, user and password case-sensitively, ports as
// written (sip:a@h and sip:a@h:5060 differ), and the transport, user,
// ttl, method and maddr parameters, which must match when either URI has
// one. Other parameters and URI headers are ignored. URIs other than sip
// and sips compare by their text.
func sameBindingURI(a, b *sip.Uri) bool {
	if !strings.EqualFold(a.Scheme, b.Scheme) || a.Wildcard != b.Wildcard {
		return false
	}
	if a.Raw() != "" || b.Raw() != "" {
		return a.Raw() == b.Raw()
	}
	if !sameUser(a.User, b.User) || a.Password != b.Password || a.Port != b.Port || !sameURIHost(a.Host, b.Host) {
		return false
	}
	for _, p := range [...]string{"transport", "user", "ttl", "method", "maddr"} {
		va, oka := uriParamFold(a, p)
		vb, okb := uriParamFold(b, p)
		if oka != okb || !strings.EqualFold(va, vb) {
			return false
		}
	}
	return true
}

func sameURIHost(a, b string) bool {
	if strings.EqualFold(a, b) {
		return true
	}
	// An IPv6 address can be written in more than one way.
	ia, errA := netip.ParseAddr(strings.Trim(a, "[]"))
	ib, errB := netip.ParseAddr(strings.Trim(b, "[]"))
	return errA == nil && errB == nil && ia == ib
}

func uriParamFold(u *sip.Uri, name string) (string, bool) {
	for _, kv := range u.UriParams {
		if strings.EqualFold(kv.K, name) {
			return kv.V, true
		}
	}
	return "", false
}
