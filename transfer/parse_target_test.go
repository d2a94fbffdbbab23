package transfer

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestParseTarget(t *testing.T) {
	base := func(user, host string) Target {
		return Target{
			URI:       sip.Uri{Scheme: "sip", User: user, Host: host},
			Transport: "udp", Timeout: DefaultTimeout, TimeLimit: DefaultTimeLimit,
		}
	}
	tests := []struct {
		name string
		in   string
		edit func(*Target)
	}{
		{"plain", "sip:jack@example.com", nil},
		{"twilio transport", "sip:jack@example.com;transport=tcp", func(t *Target) { t.Transport = "tcp" }},
		{"transport case", "SIP:jack@example.com;Transport=TLS", func(t *Target) { t.Transport = "tls" }},
		{"twilio region", "sip:jack@example.com;region=ie1", func(t *Target) { t.Region = "ie1" }},
		{"edge", "sip:jack@example.com;edge=dublin", func(t *Target) { t.Edge = "dublin" }},
		{"secure", "sip:jack@example.com;secure=true", func(t *Target) { t.Secure = true }},
		{"secure false", "sip:jack@example.com;secure=false", nil},
		{"twilio headers", "sip:jack@example.com?X-myheader=foo&X-other=bar", func(t *Target) {
			t.Headers = []Header{{"X-myheader", "foo"}, {"X-other", "bar"}}
		}},
		{"url-encoded values", "sip:jack@example.com?X-Note=hello%20world%21&X-Plus=a+b&X-At=a%40b", func(t *Target) {
			t.Headers = []Header{{"X-Note", "hello world!"}, {"X-Plus", "a+b"}, {"X-At", "a@b"}}
		}},
		{"named headers", "sip:jack@example.com?User-to-User=56a390f3d2b7310023a2%3Bencoding%3Dhex&P-Called-Party-ID=%3Csip:x%40y%3E", func(t *Target) {
			t.Headers = []Header{{"User-to-User", "56a390f3d2b7310023a2;encoding=hex"}, {"P-Called-Party-ID", "<sip:x@y>"}}
		}},
		{"named headers any case", "sip:jack@example.com?remote-party-id=x&p-preferred-identity=y", func(t *Target) {
			t.Headers = []Header{{"remote-party-id", "x"}, {"p-preferred-identity", "y"}}
		}},
		{"empty header value", "sip:jack@example.com?X-Empty=", func(t *Target) { t.Headers = []Header{{"X-Empty", ""}} }},
		{"utf-8 header value", "sip:jack@example.com?X-Name=Jos%C3%A9", func(t *Target) { t.Headers = []Header{{"X-Name", "José"}} }},
		{"all together", "sip:jack@example.com:5070;transport=tcp;region=ie1;lr?X-a=1", func(t *Target) {
			t.URI.Port = 5070
			t.Transport, t.Region = "tcp", "ie1"
			t.URI.UriParams = sip.HeaderParams{{K: "lr"}}
			t.Headers = []Header{{"X-a", "1"}}
		}},
		{"other params kept", "sip:+15550100@gw.example.com;user=phone;method=INVITE", func(t *Target) {
			t.URI.User, t.URI.Host = "+15550100", "gw.example.com"
			t.URI.UriParams = sip.HeaderParams{{K: "user", V: "phone"}, {K: "method", V: "INVITE"}}
		}},
		{"no user", "sip:example.com", func(t *Target) { t.URI.User = "" }},
		{"sips defaults to tls", "sips:jack@example.com", func(t *Target) { t.URI.Scheme, t.Transport = "sips", "tls" }},
		{"ipv4", "sip:jack@192.0.2.10:5060", func(t *Target) { t.URI.Host, t.URI.Port = "192.0.2.10", 5060 }},
		{"ipv6", "sip:jack@[2001:db8::1]:5062", func(t *Target) { t.URI.Host, t.URI.Port = "[2001:db8::1]", 5062 }},
		{"trailing dot", "sip:jack@example.com.", func(t *Target) { t.URI.Host = "example.com." }},
		{"user canonical form", "sip:%6A%61ck%2b1@example.com", func(t *Target) { t.URI.User = "jack%2B1" }},
		{"user-unreserved", "sip:a&b=c+d$e,f/g@example.com", func(t *Target) { t.URI.User = "a&b=c+d$e,f/g" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTarget(tt.in)
			if err != nil {
				t.Fatalf("ParseTarget(%q): %v", tt.in, err)
			}
			want := base("jack", "example.com")
			if tt.edit != nil {
				tt.edit(&want)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ParseTarget(%q)\n got %+v\nwant %+v", tt.in, got, want)
			}
		})
	}
}

func TestParseTargetErrors(t *testing.T) {
	long := "sip:" + strings.Repeat("a", 240) + "@example.com"
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "empty"},
		{"not a URI", "example.com", "not a sip: or sips: URI"},
		{"tel", "tel:+15550100", `scheme "tel"`},
		{"http", "http://example.com", `scheme "http"`},
		{"client without name", "client:", `scheme "client"`},
		{"client with space", "client:bob%20x", `character '%'`},
		{"client with at", "client:bob@example.com", `character '@'`},
		{"slashes", "sip://example.com", "'//'"},
		{"space", "sip:jack@example.com ", `character ' '`},
		{"CRLF raw", "sip:jack@example.com\r\nVia: evil", `character '\r'`},
		{"NUL", "sip:jack@exa\x00mple.com", `character '\x00'`},
		{"non-ASCII", "sip:jösé@example.com", "not allowed in a SIP URI"},
		{"CRLF escaped in header", "sip:x@h.example?X-a=b%0d%0aVia:%20evil", `"%0d" decodes to a control character`},
		{"LF escaped in header", "sip:x@h.example?X-a=%0A", "control character"},
		{"NUL escaped in user", "sip:a%00@h.example", "control character"},
		{"CR escaped in param", "sip:a@h.example;x=%0d", "control character"},
		{"bad escape", "sip:a@h.example?X-a=%zz", "not a %HH escape"},
		{"short escape", "sip:a@h.example?X-a=%4", "not a %HH escape"},
		{"header not allowed", "sip:a@h.example?Route=%3Csip:evil.com%3E", `header "Route" is not allowed`},
		{"header via", "sip:a@h.example?Via=x", `header "Via" is not allowed`},
		{"header body", "sip:a@h.example?body=hello", `header "body" is not allowed`},
		{"header bare X-", "sip:a@h.example?X-=1", `header "X-" is not allowed`},
		{"header name escaped colon", "sip:a@h.example?X-a%3A=1", "character ':' is not allowed"},
		{"header without value", "sip:a@h.example?X-a", "want name=value"},
		{"empty headers", "sip:a@h.example?", "'?' without headers"},
		{"empty header", "sip:a@h.example?X-a=1&&X-b=2", "want name=value"},
		{"header raw quote", `sip:a@h.example?X-a="x"`, "must be %-escaped"},
		{"header raw at", "sip:a@h.example?X-a=b@c", "more than one '@'"},
		{"header raw semicolon", "sip:a@h.example?X-a=b;c", "character ';' must be %-escaped"},
		{"header raw at no user", "sip:h.example?X-a=b@c", `'?' in the user part`},
		{"header bad utf-8", "sip:a@h.example?X-a=%C3", "not UTF-8"},
		{"too long", long, "254"},
		{"headers too long", "sip:a@h.example?X-a=" + strings.Repeat("b", 1020), "1023"},
		{"password", "sip:jack:secret@example.com", "password in the URI"},
		{"empty user", "sip:@example.com", "empty user part"},
		{"two at", "sip:a@b@example.com", "more than one '@'"},
		{"semicolon in user", "sip:a;b=c@example.com", `';' in the user part`},
		{"escaped at user is fine but host", "sip:a%40b@", "empty host"},
		{"bad transport", "sip:a@example.com;transport=ws", `transport "ws"`},
		{"sctp", "sip:a@example.com;transport=sctp", `transport "sctp"`},
		{"sips over udp", "sips:a@example.com;transport=udp", "sips needs TLS"},
		{"bad secure", "sip:a@example.com;secure=yes", `secure "yes"`},
		{"bare secure", "sip:a@example.com;secure", `secure ""`},
		{"bad region", "sip:a@example.com;region=ie%31", `region "ie%31"`},
		{"maddr", "sip:a@example.com;maddr=evil.com", "maddr is not allowed"},
		{"maddr case", "sip:a@example.com;MADDR=evil.com", "maddr is not allowed"},
		{"method bye", "sip:a@example.com;method=BYE", `method "BYE"`},
		{"duplicate param", "sip:a@example.com;transport=udp;transport=tcp", "given twice"},
		{"duplicate param case", "sip:a@example.com;lr;LR", "given twice"},
		{"empty param", "sip:a@example.com;;lr", "empty parameter"},
		{"empty param value", "sip:a@example.com;x=", "empty value"},
		{"bracket in param", "sip:example.com;x=[a]", "must be %-escaped"},
		{"bad host", "sip:a@exa_mple.com", `character '_'`},
		{"numeric host", "sip:a@2130706433", "last label"},
		{"bad ipv4", "sip:a@10.0.0.300", "last label"},
		{"ipv4 leading zero", "sip:a@010.0.0.1", "last label"},
		{"ipv6 unbracketed", "sip:a@2001:db8::1", "port"},
		{"ipv6 zone", "sip:a@[fe80::1%25eth0]", "zones"},
		{"ipv4 in brackets", "sip:a@[192.0.2.1]", "not an IPv6 address"},
		{"ipv6 unclosed", "sip:a@[::1", "without ']'"},
		{"ipv6 junk", "sip:a@[::1]x", "after the IPv6 reference"},
		{"port zero", "sip:a@example.com:0", `port "0"`},
		{"port big", "sip:a@example.com:65536", `port "65536"`},
		{"port plus", "sip:a@example.com:+5060", `port "+5060"`},
		{"port empty", "sip:a@example.com:", `port ""`},
		{"empty host", "sip:a@", "empty host"},
		{"label hyphen", "sip:a@-x.example.com", "starts or ends with '-'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTarget(tt.in)
			if err == nil {
				t.Fatalf("ParseTarget(%q) = %+v, want an error containing %q", tt.in, got, tt.want)
			}
			var te *TargetError
			if !errors.As(err, &te) {
				t.Fatalf("error %T is not a *TargetError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseTarget(%q) error\n %q\ndoes not contain %q", tt.in, err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "transfer: target ") || strings.ContainsAny(err.Error(), "\r\n\x00") {
				t.Errorf("error %q: want a one-line message starting transfer: target", err)
			}
		})
	}
}

func TestParseTargetRedactsPassword(t *testing.T) {
	_, err := ParseTarget("sip:jack:hunter2@example.com")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %v: want a refusal that does not show the password", err)
	}
}

func TestParseTargetLimits(t *testing.T) {
	// Exactly at Twilio's limits is accepted.
	uri := "sip:" + strings.Repeat("a", MaxURILength-len("sip:@example.com")) + "@example.com"
	hdrs := "X-a=" + strings.Repeat("b", MaxHeadersLength-len("X-a="))
	if _, err := ParseTarget(uri + "?" + hdrs); err != nil {
		t.Errorf("at the limits: %v", err)
	}
	if _, err := ParseTarget(uri + "a?" + hdrs); err == nil {
		t.Error("one over the URI limit was accepted")
	}
	if _, err := ParseTarget(uri + "?" + hdrs + "b"); err == nil {
		t.Error("one over the headers limit was accepted")
	}
}

// client:NAME is a user registered to sipagent: no URI, the defaults of
// <Dial>, and the allow-list lets it through without a pattern.
func TestParseTargetClient(t *testing.T) {
	tg, err := ParseTarget("Client:alice.b")
	if err != nil {
		t.Fatal(err)
	}
	want := Target{Client: "alice.b", Timeout: DefaultTimeout, TimeLimit: DefaultTimeLimit}
	if !reflect.DeepEqual(tg, want) || tg.String() != "client:alice.b" {
		t.Errorf("ParseTarget = %+v (%s), want %+v", tg, tg, want)
	}
	if err := (*Policy)(nil).Allow(tg); err != nil {
		t.Errorf("an empty allow-list refuses a registered user: %v", err)
	}
	withURI := tg
	withURI.URI.Host = "evil.example"
	if err := withURI.Validate(); err == nil {
		t.Error("a client target with a host validates")
	}
	withCreds := tg
	withCreds.Username, withCreds.Password = "u", "p"
	if err := withCreds.Validate(); err == nil {
		t.Error("a client target with credentials validates")
	}
	if req := dialRequest(tg); req.User != "alice.b" || req.URI.Host != "" {
		t.Errorf("dial request %+v", req)
	}
}
