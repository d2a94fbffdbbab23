package transfer

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseTarget checks that ParseTarget never panics, that errors are
// one-line *TargetError, and that any target it accepts is valid, free
// of control characters in everything it renders, reads the same to
// sipgo through ReferTo, and is allowed by a policy naming its host.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{
		"sip:jack@example.com;transport=tcp",
		"sip:sales@example.com;region=ie1",
		"sip:x@h.example?X-myheader=foo&X-other=bar",
		"sip:x@h.example?X-a=hello%20world&User-to-User=abc%3Bencoding%3Dhex",
		"sips:+15550100@[2001:db8::1]:5061;user=phone;lr;secure=true?X-a=%22",
		"sip:x@h.example?X-a=b%0d%0aVia:%20evil",
		"sip:%73ales@EXAMPLE.com.",
		"sip:a;b@c?d@e",
		"sip:example.com;lr?X-a=1",
		"sip:a:b@c",
		"tel:+1555",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := ParseTarget(s)
		if err != nil {
			var te *TargetError
			if !errors.As(err, &te) {
				t.Fatalf("error %T %v is not a *TargetError", err, err)
			}
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error %q spans lines", err)
			}
			return
		}
		checkTarget(t, tg)
		p, err := NewPolicy([]string{tg.URI.Host})
		if err != nil {
			t.Fatalf("host %q of an accepted target is not a valid pattern: %v", tg.URI.Host, err)
		}
		if err := p.Allow(tg); err != nil {
			t.Fatalf("a policy of its own host denies %s: %v", tg, err)
		}
	})
}

// FuzzParseTwiML checks that ParseTwiML never panics, returns only its
// two error types on one line, and that every target it returns is
// valid and safe to render.
func FuzzParseTwiML(f *testing.F) {
	for _, s := range []string{
		seedTwiML,
		`<?xml version="1.0"?><Response><Dial timeout="20" callerId="+1555" answerOnBridge="true"><Sip username="u" password="p">sip:a@b.example;transport=tcp?X-a=1</Sip></Dial><Refer action="/r"><Sip>sips:c@d.example</Sip></Refer></Response>`,
		`<Response><Say>hi</Say><Gather><Play>x</Play></Gather></Response>`,
		`<Response><Dial>+15550100</Dial></Response>`,
		`<Response><Dial><Sip>sip:a@b.example?X-a=b&#13;&#10;Via: evil</Sip></Dial></Response>`,
		`<Response><Dial record="record-from-answer"><Sip url="/x">sip:a@b</Sip><Sip/></Dial>`,
		`<!DOCTYPE x><Response/>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		ins, err := ParseTwiML(doc)
		if err != nil {
			var te *TwiMLError
			var ue *UnsupportedVerbError
			if !errors.As(err, &te) && !errors.As(err, &ue) {
				t.Fatalf("error %T %v is neither *TwiMLError nor *UnsupportedVerbError", err, err)
			}
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error %q spans lines", err)
			}
			if ins != nil {
				t.Fatalf("instructions %v with error %v", ins, err)
			}
			return
		}
		for _, in := range ins {
			switch {
			case in.Verb == "Dial" && in.Target.Mode == ModeBridge:
			case in.Verb == "Refer" && in.Target.Mode == ModeRefer && in.Target.Username == "":
			default:
				t.Fatalf("verb %q with mode %q", in.Verb, in.Target.Mode)
			}
			if in.Method != "GET" && in.Method != "POST" {
				t.Fatalf("method %q", in.Method)
			}
			if strings.ContainsAny(in.Action, "\r\n\x00 ") {
				t.Fatalf("action %q", in.Action)
			}
			checkTarget(t, in.Target)
		}
	})
}

// checkTarget checks the invariants of an accepted target.
func checkTarget(t *testing.T, tg Target) {
	t.Helper()
	if err := tg.Validate(); err != nil {
		t.Fatalf("accepted target fails Validate: %v", err)
	}
	fields := []string{tg.String(), tg.ReferTo(), tg.URI.User, tg.URI.Host, tg.Transport, tg.Region, tg.Edge,
		tg.Username, tg.Password, tg.CallerID}
	for _, h := range tg.Headers {
		fields = append(fields, h.Name, h.Value)
	}
	for _, kv := range tg.URI.UriParams {
		fields = append(fields, kv.K, kv.V)
	}
	for _, s := range fields {
		for i := 0; i < len(s); i++ {
			if isCtl(s[i]) {
				t.Fatalf("field %q of %s has control character %q", s, tg, s[i])
			}
		}
	}
	if tg.Password != "" && strings.Contains(tg.String(), tg.Password) && !strings.Contains(tg.URI.Host+tg.URI.User, tg.Password) {
		t.Fatalf("String() %q shows the password", tg.String())
	}
	checkReferTo(t, tg)
}
