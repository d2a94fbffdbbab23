package transfer

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

func TestValidate(t *testing.T) {
	good := func() Target {
		tg, err := ParseTarget("sip:sales@example.com;lr?X-a=1")
		if err != nil {
			t.Fatal(err)
		}
		tg.Username, tg.Password = "u", "p"
		tg.CallerID = "+1555_sales.desk-2"
		tg.Mode = ModeAuto
		return tg
	}
	tests := []struct {
		name string
		edit func(*Target)
		want string // "" for valid
	}{
		{"parsed", func(*Target) {}, ""},
		{"max timeout", func(t *Target) { t.Timeout = MaxTimeout }, ""},
		{"max time limit", func(t *Target) { t.TimeLimit = MaxTimeLimit }, ""},
		{"no credentials", func(t *Target) { t.Username, t.Password = "", "" }, ""},
		{"each mode", func(t *Target) { t.Mode = ModeRefer }, ""},
		{"zero", func(t *Target) { *t = Target{} }, "scheme"},
		{"tel", func(t *Target) { t.URI.Scheme = "tel" }, "scheme"},
		{"uri password", func(t *Target) { t.URI.Password = "x" }, "password in the URI"},
		{"uri headers", func(t *Target) { t.URI.Headers = sip.HeaderParams{{K: "X-a", V: "1"}} }, "Target.Headers"},
		{"raw at in user", func(t *Target) { t.URI.User = "sales@evil.com" }, "must be %-escaped"},
		{"CRLF in user", func(t *Target) { t.URI.User = "a\r\nVia: x" }, "must be %-escaped"},
		{"bad host", func(t *Target) { t.URI.Host = "evil.com;maddr=x" }, "host"},
		{"bad port", func(t *Target) { t.URI.Port = 70000 }, "port"},
		{"transport empty", func(t *Target) { t.Transport = "" }, "transport"},
		{"transport param", func(t *Target) { t.URI.UriParams = sip.HeaderParams{{K: "transport", V: "tcp"}} }, "set the Target field"},
		{"maddr param", func(t *Target) { t.URI.UriParams = sip.HeaderParams{{K: "maddr", V: "evil.com"}} }, "maddr"},
		{"duplicate param", func(t *Target) { t.URI.UriParams = sip.HeaderParams{{K: "lr"}, {K: "LR"}} }, "twice"},
		{"param value", func(t *Target) { t.URI.UriParams = sip.HeaderParams{{K: "x", V: "a>b"}} }, "must be %-escaped"},
		{"region", func(t *Target) { t.Region = "ie1;x" }, "region"},
		{"header name", func(t *Target) { t.Headers = []Header{{"Contact", "x"}} }, "not allowed"},
		{"header CRLF", func(t *Target) { t.Headers = []Header{{"X-a", "1\r\nVia: x"}} }, "control character"},
		{"headers too long", func(t *Target) { t.Headers = []Header{{"X-a", strings.Repeat("b", MaxHeadersLength)}} }, "limit"},
		{"username alone", func(t *Target) { t.Password = "" }, "go together"},
		{"username quote", func(t *Target) { t.Username = `a", realm="x` }, "username"},
		{"password LF", func(t *Target) { t.Password = "a\nb" }, "password"},
		{"timeout zero", func(t *Target) { t.Timeout = 0 }, "timeout"},
		{"timeout long", func(t *Target) { t.Timeout = MaxTimeout + time.Second }, "timeout"},
		{"time limit zero", func(t *Target) { t.TimeLimit = 0 }, "time limit"},
		{"caller id", func(t *Target) { t.CallerID = "Sales <sip:x>" }, "caller ID"},
		{"caller id long", func(t *Target) { t.CallerID = strings.Repeat("1", 65) }, "caller ID"},
		{"mode", func(t *Target) { t.Mode = "forward" }, "mode"},
		{"too long", func(t *Target) { t.URI.User = strings.Repeat("a", 250) }, "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := good()
			tt.edit(&tg)
			err := tg.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var te *TargetError
			if err == nil || !errors.As(err, &te) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want a *TargetError containing %q", err, tt.want)
			}
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Errorf("error %q spans lines", err)
			}
		})
	}
}
