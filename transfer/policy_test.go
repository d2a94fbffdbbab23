package transfer

import (
	"errors"
	"strings"
	"testing"
)

var testPatterns = []string{
	"sip:*@example.com",
	"sip:sales@pbx.example.com",
	"*.corp.example",
	"sip:+1555*@trunk.example",
	"sips:*@secure.example",
	"sip:*@ported.example:5080",
	"tls.example:5061",
	"10.0.0.5",
	"[2001:db8::1]",
	"sip:pbx.example.net",
	"sip:a*b*c@glob.example",
	"sip:lit%2Astar@star.example",
}

func TestPolicyAllow(t *testing.T) {
	p, err := NewPolicy(testPatterns)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		target string
		allow  bool
	}{
		// sip:*@example.com
		{"sip:anyone@example.com", true},
		{"sip:example.com", true},
		{"sip:anyone@EXAMPLE.COM", true},
		{"sip:anyone@Example.Com.", true},
		{"sips:anyone@example.com", true},
		{"sip:anyone@example.com:5070;transport=tcp?X-a=1", true},
		{"sip:sales@example.com.evil.com", false},
		{"sip:sales@evilexample.com", false},
		{"sip:sales@sub.example.com", false},
		{"sip:sales@evil.com;host=example.com", false},
		{"sip:sales@evil.com;user=example.com", false},
		{"sip:sales@evil.com?X-Host=example.com", false},
		{"sip:sales%40example.com@evil.com", false},
		{"sip:example.com@evil.com", false},
		// sip:sales@pbx.example.com
		{"sip:sales@pbx.example.com", true},
		{"sip:%73ales@pbx.example.com", true},
		{"sip:sales@PBX.example.com:5060", true},
		{"sip:Sales@pbx.example.com", false},
		{"sip:sales2@pbx.example.com", false},
		{"sip:pbx.example.com", false},
		{"sip:sales%00@pbx.example.com", false},
		// *.corp.example
		{"sip:a@b.corp.example", true},
		{"sip:b.corp.example", true},
		{"sips:a@x.y.corp.example:5999", true},
		{"sip:a@corp.example", false},
		{"sip:a@xcorp.example", false},
		{"sip:a@b.corp.example.evil.com", false},
		// sip:+1555*@trunk.example
		{"sip:+15551234@trunk.example", true},
		{"sip:+1555@trunk.example", true},
		{"sip:+19005551234@trunk.example", false},
		{"sip:%2B15551234@trunk.example", false}, // an escaped '+' is not a '+' (RFC 3261 s.19.1.4)
		{"sip:trunk.example", false},
		{"sip:1555@trunk.example", false},
		// sips:*@secure.example
		{"sips:x@secure.example", true},
		{"sip:x@secure.example", false},
		{"sip:x@secure.example;transport=tls", false},
		// ports
		{"sip:a@ported.example:5080", true},
		{"sip:a@ported.example", false},
		{"sip:a@ported.example:5060", false},
		{"sip:a@tls.example;transport=tls", true},
		{"sips:a@tls.example", true},
		{"sip:a@tls.example:5061", true},
		{"sip:a@tls.example", false},
		{"sip:a@tls.example;transport=tcp", false},
		// addresses
		{"sip:x@10.0.0.5", true},
		{"sip:x@10.0.0.5:5062", true},
		{"sip:x@[::ffff:10.0.0.5]", true},
		{"sip:x@10.0.0.6", false},
		{"sip:x@[2001:db8::1]", true},
		{"sip:x@[2001:DB8:0::1]", true},
		{"sip:x@[2001:db8::2]", false},
		// sip:pbx.example.net: the host alone
		{"sip:pbx.example.net", true},
		{"sip:bob@pbx.example.net", false},
		// globs
		{"sip:abc@glob.example", true},
		{"sip:a-b-c@glob.example", true},
		{"sip:aXbYbZc@glob.example", true},
		{"sip:acb@glob.example", false},
		{"sip:ab@glob.example", false},
		{"sip:lit*star@star.example", true},
		{"sip:litXstar@star.example", false},
		// nothing else
		{"sip:anyone@evil.com", false},
		{"sip:x@10.0.0.50", false},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			tg, err := ParseTarget(tt.target)
			if err != nil {
				if tt.allow {
					t.Fatal(err)
				}
				return // refused before the policy is asked
			}
			err = p.Allow(tg)
			if tt.allow {
				if err != nil {
					t.Errorf("Allow(%s) = %v, want nil", tt.target, err)
				}
				return
			}
			var de *DeniedError
			if !errors.As(err, &de) {
				t.Fatalf("Allow(%s) = %v, want a *DeniedError", tt.target, err)
			}
			want := "transfer: " + tg.String() + " is not in transfer.allow"
			if err.Error() != want || de.Target != tg.String() {
				t.Errorf("error %q, want %q", err, want)
			}
		})
	}
}

func TestPolicyDefaultDeny(t *testing.T) {
	tg, err := ParseTarget("sip:sales@example.com")
	if err != nil {
		t.Fatal(err)
	}
	var nilPolicy *Policy
	empty, err := NewPolicy(nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]*Policy{"nil": nilPolicy, "empty": empty, "zero": {}} {
		var de *DeniedError
		if err := p.Allow(tg); !errors.As(err, &de) {
			t.Errorf("%s policy: Allow = %v, want a *DeniedError", name, err)
		}
	}
	if nilPolicy.Patterns() != nil {
		t.Error("nil policy has patterns")
	}
}

// TestPolicyInvalidTarget checks that a Target built in code is checked
// before it is compared: a raw '@' in the user could read as another host.
func TestPolicyInvalidTarget(t *testing.T) {
	p, err := NewPolicy([]string{"example.com"})
	if err != nil {
		t.Fatal(err)
	}
	tg, err := ParseTarget("sip:x@example.com")
	if err != nil {
		t.Fatal(err)
	}
	tg.URI.User = "x@evil.com;"
	err = p.Allow(tg)
	var de *DeniedError
	if !errors.As(err, &de) || de.Reason == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("Allow = %v, want a *DeniedError with a reason", err)
	}
	tg.URI.User = "x"
	tg.URI.Host = "[::1"
	if err := p.Allow(tg); err == nil {
		t.Error("bad host allowed")
	}
}

func TestNewPolicyErrors(t *testing.T) {
	tests := []struct{ pattern, want string }{
		{"", "empty pattern"},
		{"*", "'*' may only stand for the leading labels"},
		{"*.com", "too broad"},
		{"*.", "host"},
		{"ex*ample.com", "'*' may only"},
		{"example.*", "'*' may only"},
		{"sip:*@*", "'*' may only"},
		{"sip:*@example.com;transport=tcp", "parameters and headers are never matched"},
		{"sip:a@example.com?X-a=1", "parameters and headers are never matched"},
		{"sip:a:pw@example.com", "password"},
		{"a@example.com", "sip:a@example.com"},
		{"sip:@example.com", "empty user part"},
		{"sip:a@b@example.com", "more than one '@'"},
		{"sip:a b@example.com", `character ' '`},
		{"sip:a\r\n@example.com", `character '\r'`},
		{"sip:a%0d@example.com", "control character"},
		{"tel:+15550100", `scheme "tel"`},
		{"http://example.com", `scheme "http"`},
		{"example.com:0", `port "0"`},
		{"example.com:99999", `port "99999"`},
		{"exa_mple.com", "not allowed in a host name"},
		{"10.0.0.300", "last label"},
		{"[::1", "without ']'"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			p, err := NewPolicy([]string{"example.org", tt.pattern})
			if err == nil {
				t.Fatalf("NewPolicy accepted %q: %+v", tt.pattern, p)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "transfer: transfer.allow[1] ") || !strings.Contains(msg, tt.want) || strings.ContainsAny(msg, "\r\n") {
				t.Errorf("error %q: want one line naming transfer.allow[1] and containing %q", msg, tt.want)
			}
		})
	}
}

func TestPolicyPatterns(t *testing.T) {
	p, err := NewPolicy(testPatterns)
	if err != nil {
		t.Fatal(err)
	}
	got := p.Patterns()
	if strings.Join(got, " ") != strings.Join(testPatterns, " ") {
		t.Errorf("Patterns() = %q", got)
	}
	got[0] = "changed"
	if p.Patterns()[0] != testPatterns[0] {
		t.Error("Patterns() shares the policy's slice")
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		glob, s string
		match   bool
	}{
		{"", "", true},
		{"", "a", false},
		{"abc", "abc", true},
		{"*", "", true},
		{"*", "anything", true},
		{"a*", "a", true},
		{"a*", "ba", false},
		{"*a", "ba", true},
		{"*a", "ab", false},
		{"a*a", "a", false},
		{"a*a", "aa", true},
		{"a*b*a", "aba", true},
		{"a*b*a", "aa", false},
		{"**", "x", true},
		{"+1555*", "+1555", true},
	}
	for _, tt := range tests {
		if got := globMatch(strings.Split(tt.glob, "*"), tt.s); got != tt.match {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.glob, tt.s, got, tt.match)
		}
	}
}
