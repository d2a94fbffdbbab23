package transfer

import (
	"strings"
	"testing"
)

func TestCanonicalUser(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"sales", "sales", ""},
		{"%73ales", "sales", ""},
		{"%7e%2Dx", "~-x", ""},
		{"a%2bb", "a%2Bb", ""}, // '+' is reserved: its escape stays one (RFC 3261 s.19.1.4)
		{"a%40b", "a%40b", ""},
		{"%C3%A9", "%C3%A9", ""},
		{"+1&=$,/", "+1&=$,/", ""},
		{"", "", "empty"},
		{"a@b", "", "'@'"},
		{"a:b", "", "':'"},
		{"a;b", "", "';'"},
		{"a?b", "", "'?'"},
		{"a%0D", "", "control character"},
		{"a%7F", "", "control character"},
		{"a%", "", "not a %HH escape"},
		{"a%g0", "", "not a %HH escape"},
	}
	for _, tt := range tests {
		got, err := canonicalUser(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("canonicalUser(%q) = %q, %v; want an error containing %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("canonicalUser(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestEscapeRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", "a b&c=d;e@f<g>h\"i'j%k+l", "José", "\x00\r\n\xff"} {
		e := escapeStrict(s)
		for i := 0; i < len(e); i++ {
			if c := e[i]; !isAlphaNum(c) && !strings.ContainsRune("-_.~%", rune(c)) {
				t.Errorf("escapeStrict(%q) = %q leaves %q", s, e, c)
			}
		}
		if got := unescape(e); got != s {
			t.Errorf("unescape(escapeStrict(%q)) = %q", s, got)
		}
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"sip:jack:hunter2@example.com", "sip:jack:***@example.com"},
		{"sip:jack@example.com:5060", "sip:jack@example.com:5060"},
		{"sip:example.com:5060", "sip:example.com:5060"},
		{"example.com", "example.com"},
	}
	for _, tt := range tests {
		if got := redact(tt.in); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestQuoteShort(t *testing.T) {
	if got := quoteShort("a\r\n"); got != `"a\r\n"` {
		t.Errorf("quoteShort = %s", got)
	}
	long := quoteShort(strings.Repeat("x", 1000))
	if len(long) > 310 || !strings.HasSuffix(long, `"...`) {
		t.Errorf("quoteShort of 1000 bytes = %d bytes", len(long))
	}
}
