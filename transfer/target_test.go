package transfer

import (
	"reflect"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestTargetString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"sip:jack@example.com", "sip:jack@example.com"},
		{"sip:jack@example.com;transport=udp", "sip:jack@example.com"},
		{"sip:jack@example.com;transport=TCP", "sip:jack@example.com;transport=tcp"},
		{"sips:jack@example.com;transport=tls", "sips:jack@example.com"},
		{"sips:jack@example.com;transport=tcp", "sips:jack@example.com;transport=tcp"},
		{"sip:jack@example.com;region=ie1;secure=true;edge=dublin;lr", "sip:jack@example.com;lr;secure=true;region=ie1;edge=dublin"},
		{"sip:jack@example.com;user=phone;lr;ob", "sip:jack@example.com;lr;ob;user=phone"},
		{"sip:jack@example.com:5080?X-Secret=s3cr3t", "sip:jack@example.com:5080"},
		{"sip:[2001:db8::1]", "sip:[2001:db8::1]"},
	}
	for _, tt := range tests {
		tg, err := ParseTarget(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		tg.Username, tg.Password = "user", "hunter2"
		if got := tg.String(); got != tt.want {
			t.Errorf("ParseTarget(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
		if strings.Contains(tg.String(), "hunter2") {
			t.Errorf("String() shows the password")
		}
	}
}

func TestTargetReferTo(t *testing.T) {
	tests := []struct{ in, want string }{
		{"sip:jack@example.com", "<sip:jack@example.com>"},
		{"sip:jack@example.com;transport=tcp;region=ie1;secure=true", "<sip:jack@example.com;transport=tcp>"},
		{"sip:jack@example.com?X-a=1&X-b=two%20words", "<sip:jack@example.com?X-a=1&X-b=two%20words>"},
		// Characters RFC 3261 lets stand are escaped anyway, and the
		// dangerous ones always: '>' would end Refer-To, '&' and '='
		// would split the value, '@' would move the host for a lax parser.
		{"sip:jack@example.com?X-a=%3E%26%3D%40+:/?", "<sip:jack@example.com?X-a=%3E%26%3D%40%2B%3A%2F%3F>"},
		{"sip:jack@example.com?X-a=%0A", ""},
	}
	for _, tt := range tests {
		tg, err := ParseTarget(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("ParseTarget(%q) accepted", tt.in)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := tg.ReferTo(); got != tt.want {
			t.Errorf("ParseTarget(%q).ReferTo() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestReferToRoundTrip parses the Refer-To value with sipgo, as the
// referee's stack might, and gets the same destination and headers back.
func TestReferToRoundTrip(t *testing.T) {
	for _, in := range []string{
		"sip:jack@example.com",
		"sip:x@h.example?X-myheader=foo&X-other=bar",
		"sips:+15550100@[2001:db8::1]:5061;user=phone;lr?X-Quote=%22hi%22&User-to-User=abc%3Bencoding%3Dhex",
		"sip:a&b=c@example.com;transport=tcp?X-a=%3Csip:evil%40evil.com%3E%26Route%3Dx&P-Preferred-Identity=%3Csip:%2B1555%40x%3E",
		"sip:example.com?X-Name=Jos%C3%A9%20%C3%81lvarez&X-Empty=",
		"sip:example.com;lr;ob?X-a=1",
		"sip:example.com;x=1;lr?X-a=1",
	} {
		t.Run(in, func(t *testing.T) {
			tg, err := ParseTarget(in)
			if err != nil {
				t.Fatal(err)
			}
			checkReferTo(t, tg)
		})
	}
}

// checkReferTo checks that sipgo reads tg.ReferTo() as the same scheme,
// user, host, port, parameters and headers, and that ParseTarget reads
// it back to the same Target but for the parts Refer-To leaves out.
func checkReferTo(t *testing.T, tg Target) {
	t.Helper()
	referTo := tg.ReferTo()
	if strings.ContainsAny(referTo, "\r\n\x00 \t") {
		t.Fatalf("Refer-To %q has white space or control characters", referTo)
	}
	inner, ok1 := strings.CutPrefix(referTo, "<")
	inner, ok2 := strings.CutSuffix(inner, ">")
	if !ok1 || !ok2 || strings.ContainsAny(inner, "<>") {
		t.Fatalf("Refer-To %q: want one <uri>", referTo)
	}
	var u sip.Uri
	if err := sip.ParseUri(inner, &u); err != nil {
		t.Fatalf("sipgo cannot parse Refer-To %q: %v", referTo, err)
	}
	if u.Scheme != tg.URI.Scheme || u.User != tg.URI.User || u.Password != "" ||
		!strings.EqualFold(u.Host, tg.URI.Host) || u.Port != tg.URI.Port {
		t.Fatalf("sipgo reads %q as %s user %q host %q port %d, want %s %q %q %d",
			referTo, u.Scheme, u.User, u.Host, u.Port, tg.URI.Scheme, tg.URI.User, tg.URI.Host, tg.URI.Port)
	}
	wantParams := tg.URI.UriParams.Items()
	if tg.Transport != defaultTransport(tg.URI.Scheme) {
		wantParams["transport"] = tg.Transport
	}
	gotParams := u.UriParams.Items()
	if len(tg.Headers) > 0 {
		// sipgo reads a flag parameter right before '?' as one
		// named "flag?headers..."; ReferTo puts flags first, so this
		// happens only when all parameters are flags.
		for k, v := range gotParams {
			if name, _, ok := strings.Cut(k, "?"); ok && v == "" {
				delete(gotParams, k)
				gotParams[name] = ""
			}
		}
	}
	if !reflect.DeepEqual(gotParams, wantParams) {
		t.Fatalf("sipgo reads the parameters of %q as %v, want %v", referTo, gotParams, wantParams)
	}
	// sipgo keeps the last of headers with the same name, so compare
	// when names are unique.
	unique := map[string]bool{}
	for _, h := range tg.Headers {
		unique[h.Name] = true
	}
	if len(unique) == len(tg.Headers) {
		var got []Header
		for _, kv := range u.Headers {
			got = append(got, Header{Name: unescape(kv.K), Value: unescape(kv.V)})
		}
		if !reflect.DeepEqual(got, tg.Headers) {
			t.Fatalf("sipgo reads the headers of %q as %q, want %q", referTo, got, tg.Headers)
		}
	}
	back, err := ParseTarget(inner)
	if err != nil {
		t.Fatalf("ParseTarget(ReferTo %q): %v", inner, err)
	}
	want := tg
	want.Secure, want.Region, want.Edge = false, "", ""
	want.Username, want.Password = "", ""
	want.Timeout, want.TimeLimit, want.CallerID = DefaultTimeout, DefaultTimeLimit, ""
	want.AnswerOnBridge, want.HangupOnStar, want.Mode = false, false, ""
	// Parameters come back flags first.
	want.URI.UriParams = nil
	for _, flags := range []bool{true, false} {
		for _, kv := range tg.URI.UriParams {
			if (kv.V == "") == flags {
				want.URI.UriParams = append(want.URI.UriParams, kv)
			}
		}
	}
	if !reflect.DeepEqual(back, want) {
		t.Fatalf("ParseTarget(ReferTo %q)\n got %+v\nwant %+v", inner, back, want)
	}
}

func TestParseMode(t *testing.T) {
	for _, s := range []string{"", "refer", "bridge", "auto"} {
		if m, err := ParseMode(s); err != nil || string(m) != s {
			t.Errorf("ParseMode(%q) = %q, %v", s, m, err)
		}
	}
	for _, s := range []string{"Refer", "blind", "auto\n"} {
		if _, err := ParseMode(s); err == nil || !strings.Contains(err.Error(), "want refer, bridge or auto") {
			t.Errorf("ParseMode(%q) error %v", s, err)
		}
	}
}
