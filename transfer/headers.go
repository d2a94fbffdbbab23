package transfer

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Header is a SIP header the forwarded call carries, from the target
// URI's ?name=value part, decoded.
type Header struct {
	Name  string
	Value string
}

// namedHeaders are the headers besides X-* that <Sip> may set (Twilio's
// list). Anything else is refused: a URI header such as Route, Contact,
// Call-ID or body would change where or how the new call goes, not just
// what it carries (RFC 3261 s.19.1.5 warns the same).
var namedHeaders = []string{"User-to-User", "Remote-Party-ID", "P-Preferred-Identity", "P-Called-Party-ID"}

// checkHeaderName checks that name is a token (RFC 3261 s.25.1) and one
// a target may set.
func checkHeaderName(name string) error {
	if name == "" {
		return fmt.Errorf("empty header name")
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isAlphaNum(c) && strings.IndexByte("-.!%*_+`'~", c) < 0 {
			return fmt.Errorf("header name %q: character %q is not allowed", name, c)
		}
	}
	if len(name) > 2 && strings.EqualFold(name[:2], "X-") {
		return nil
	}
	for _, n := range namedHeaders {
		if strings.EqualFold(name, n) {
			return nil
		}
	}
	return fmt.Errorf("header %q is not allowed: only X-* and %s", name, strings.Join(namedHeaders, ", "))
}

// checkHeaderValue checks a decoded header value: UTF-8 text without
// control characters, so it cannot end the header line it is put in.
func checkHeaderValue(name, value string) error {
	if !utf8.ValidString(value) {
		return fmt.Errorf("header %s: value is not UTF-8", name)
	}
	for i := 0; i < len(value); i++ {
		if isCtl(value[i]) {
			return fmt.Errorf("header %s: value contains control character %q", name, value[i])
		}
	}
	return nil
}

// parseHeaders reads the part of a URI after '?': name=value pairs joined
// by '&', %-escaped as RFC 3261 s.19.1.1 wants (Twilio calls them
// URL-encoded; '+' is kept, not read as a space).
func parseHeaders(s string) ([]Header, error) {
	if s == "" {
		return nil, fmt.Errorf("'?' without headers")
	}
	var hs []Header
	for field := range strings.SplitSeq(s, "&") {
		rawName, rawValue, ok := strings.Cut(field, "=")
		if !ok {
			return nil, fmt.Errorf("header %q: want name=value", field)
		}
		if err := checkEscaped(rawName, headerExtra); err != nil {
			return nil, fmt.Errorf("header name %q: %w", rawName, err)
		}
		if err := checkEscaped(rawValue, headerExtra); err != nil {
			return nil, fmt.Errorf("header %s: value: %w", unescape(rawName), err)
		}
		h := Header{Name: unescape(rawName), Value: unescape(rawValue)}
		if err := checkHeader(h); err != nil {
			return nil, err
		}
		hs = append(hs, h)
	}
	return hs, nil
}

func checkHeader(h Header) error {
	if err := checkHeaderName(h.Name); err != nil {
		return err
	}
	return checkHeaderValue(h.Name, h.Value)
}

// writeHeaders writes headers as a URI's ?part, every byte but
// alphanumerics and "-_.~" escaped: more than RFC 3261 requires, so that
// no parser can split a value at '&', ';', '>' or '@'.
func writeHeaders(b *strings.Builder, hs []Header) {
	for i, h := range hs {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(escapeStrict(h.Name))
		b.WriteByte('=')
		b.WriteString(escapeStrict(h.Value))
	}
}
