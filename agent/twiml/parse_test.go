package twiml

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	doc := `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Say loop="2">Hello there</Say>
  <Play>https://example.com/a.wav</Play>
  <Pause length="3"/>
  <Gather numDigits="4" timeout="7" finishOnKey="*" action="/menu" method="GET">
    <Say>Enter your PIN</Say>
  </Gather>
  <Dial answerOnBridge="true" action="/after"><Sip>sip:sales@example.com;region=ie1</Sip></Dial>
  <Connect action="/streamed"><Stream url="wss://bot.example.com/s"><Parameter name="lang" value="en"/></Stream></Connect>
  <Redirect>/next</Redirect>
  <Reject reason="busy"/>
  <Hangup/>
</Response>`
	verbs, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []Verb{
		&Say{Text: "Hello there", Loop: 2},
		&Play{URL: "https://example.com/a.wav", Loop: 1},
		&Pause{Length: 3 * time.Second},
		&Gather{NumDigits: 4, FinishOnKey: '*', Timeout: 7 * time.Second, Action: "/menu", Method: "GET",
			Prompts: []Verb{&Say{Text: "Enter your PIN", Loop: 1}}},
		&Forward{Name: "Dial", TwiML: `<Response><Dial answerOnBridge="true" action="/after"><Sip>sip:sales@example.com;region=ie1</Sip></Dial></Response>`,
			Action: "/after", Method: "POST"},
		&Connect{URL: "wss://bot.example.com/s", Parameters: map[string]string{"lang": "en"}, Action: "/streamed", Method: "POST"},
		&Redirect{URL: "/next", Method: "POST"},
		&Reject{Reason: "busy"},
		&Hangup{},
	}
	if !reflect.DeepEqual(verbs, want) {
		for i := range max(len(verbs), len(want)) {
			var g, w Verb
			if i < len(verbs) {
				g = verbs[i]
			}
			if i < len(want) {
				w = want[i]
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("verb %d = %#v, want %#v", i, g, w)
			}
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct{ doc, want string }{
		{``, "no <Response>"},
		{`<Response><Say>hi</Say>`, "malformed XML"},
		{`<Speak/>`, "must be a <Response>"},
		{`<Response><Sms>hi</Sms></Response>`, "unknown or unsupported verb"},
		{`<Response><Say/></Response>`, "nothing to say"},
		{`<Response><Say loop="-1">x</Say></Response>`, "loop"},
		{`<Response><Play>ftp://x/a.wav</Play></Response>`, "URL"},
		{`<Response><Pause length="x"/></Response>`, "length"},
		{`<Response><Gather input="voice"/></Response>`, "input"},
		{`<Response><Gather numDigits="0"/></Response>`, "numDigits"},
		{`<Response><Gather finishOnKey="ab"/></Response>`, "finishOnKey"},
		{`<Response><Gather><Dial><Sip>sip:a@b</Sip></Dial></Gather></Response>`, "not allowed in <Gather>"},
		{`<Response><Dial/></Response>`, "needs a <Sip>"},
		{`<Response><Connect><Stream url="http://x"/></Connect></Response>`, "ws://"},
		{`<Response><Redirect method="PUT">/x</Redirect></Response>`, "method"},
		{`<Response><Reject reason="later"/></Response>`, "reason"},
		{`<Response><Hangup><Say>x</Say></Hangup></Response>`, "not allowed in <Hangup>"},
		{`<!DOCTYPE x><Response/>`, "DOCTYPE"},
		{`<Response/><Response/>`, "after </Response>"},
		{`hello<Response/>`, "text outside"},
		{strings.Repeat(" ", MaxDocumentSize+1), "limit"},
	} {
		_, err := Parse([]byte(tt.doc))
		var te *Error
		if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.As(err, &te) {
			t.Errorf("Parse(%.60q) = %v, want a *Error containing %q", tt.doc, err, tt.want)
		}
	}
}

// Twilio's documented example request and its signature.
func TestSignature(t *testing.T) {
	params := map[string][]string{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+12349013030"},
		"Digits":  {"1234"},
		"From":    {"+12349013030"},
		"To":      {"+18005551212"},
	}
	if got := Signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params); got != "0/KCTR6DLpKmkAf8muzZqo1nDgQ=" {
		t.Errorf("Signature = %s", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`<Response><Say>hi</Say><Gather numDigits="1"><Play>/a.wav</Play></Gather><Dial><Sip>sip:a@b</Sip></Dial></Response>`))
	f.Add([]byte(`<Response><Connect><Stream url="wss://x/y"><Parameter name="a" value="b"/></Stream></Connect><Redirect>/n</Redirect></Response>`))
	f.Add([]byte(`<?xml version="1.0"?><Response><Reject reason="busy"/></Response>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		verbs, err := Parse(doc)
		if err != nil {
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("error %v is not a *Error", err)
			}
			return
		}
		for _, v := range verbs {
			// A forwarding verb's document is handed on: it must be a
			// document again.
			if fw, ok := v.(*Forward); ok {
				if _, err := Parse([]byte(fw.TwiML)); err != nil {
					t.Fatalf("forward document %q does not parse: %v", fw.TwiML, err)
				}
			}
		}
	})
}
