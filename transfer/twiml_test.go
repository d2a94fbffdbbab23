package transfer

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// seedTwiML is the forwarding document of the hosted setup.
const seedTwiML = `<Response><Dial><Sip>sip:sales@example.com;region=ie1</Sip></Dial></Response>`

func TestParseTwiMLSeed(t *testing.T) {
	ins, err := ParseTwiML([]byte(seedTwiML))
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) != 1 {
		t.Fatalf("%d instructions, want 1", len(ins))
	}
	in := ins[0]
	if in.Verb != "Dial" || in.Action != "" || in.Method != "POST" {
		t.Errorf("instruction %+v", in)
	}
	tg := in.Target
	if tg.String() != "sip:sales@example.com;region=ie1" || tg.Region != "ie1" || tg.Mode != ModeBridge ||
		tg.Timeout != DefaultTimeout || tg.TimeLimit != DefaultTimeLimit || tg.Transport != "udp" {
		t.Errorf("target %+v", tg)
	}
}

func TestParseTwiML(t *testing.T) {
	doc := `<?xml version="1.0" encoding="UTF-8"?>
<!-- forwarding -->
<Response>
  <Dial action="https://example.com/after?x=1&amp;y=2" method="get" timeout="20" timeLimit="600"
        callerId="+15550100" answerOnBridge="true" hangupOnStar="True" record="do-not-record" trim="trim-silence">
    <!-- the desk -->
    <Sip username="alice" password="p&lt;ss">
      sip:desk@pbx.example.com;transport=tls?X-Ticket=42
    </Sip>
  </Dial>
  <Refer action="/refer-done"><Sip><![CDATA[sips:ops@example.net]]></Sip></Refer>
  <Refer method="GET"><Sip>sip:a@b.example</Sip></Refer>
</Response>
`
	ins, err := ParseTwiML([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) != 3 {
		t.Fatalf("%d instructions, want 3", len(ins))
	}
	d := ins[0]
	if d.Verb != "Dial" || d.Action != "https://example.com/after?x=1&y=2" || d.Method != "GET" {
		t.Errorf("dial %+v", d)
	}
	tg := d.Target
	if tg.URI.User != "desk" || tg.URI.Host != "pbx.example.com" || tg.Transport != "tls" ||
		len(tg.Headers) != 1 || tg.Headers[0] != (Header{"X-Ticket", "42"}) ||
		tg.Username != "alice" || tg.Password != "p<ss" ||
		tg.Timeout != 20*time.Second || tg.TimeLimit != 600*time.Second || tg.CallerID != "+15550100" ||
		!tg.AnswerOnBridge || !tg.HangupOnStar || tg.Mode != ModeBridge {
		t.Errorf("dial target %+v", tg)
	}
	r := ins[1]
	if r.Verb != "Refer" || r.Action != "/refer-done" || r.Method != "POST" ||
		r.Target.String() != "sips:ops@example.net" || r.Target.Mode != ModeRefer || r.Target.Username != "" {
		t.Errorf("refer %+v", r)
	}
	if ins[2].Method != "GET" || ins[2].Action != "" {
		t.Errorf("second refer %+v", ins[2])
	}
	for _, in := range ins {
		if err := in.Target.Validate(); err != nil {
			t.Errorf("%s target: %v", in.Verb, err)
		}
	}
}

func TestParseTwiMLEmptyResponse(t *testing.T) {
	for _, doc := range []string{"<Response/>", "<Response>\n</Response>", "<Response><!-- nothing --></Response>"} {
		ins, err := ParseTwiML([]byte(doc))
		if err != nil || len(ins) != 0 {
			t.Errorf("ParseTwiML(%q) = %v, %v; want nothing", doc, ins, err)
		}
	}
}

func TestParseTwiMLUnsupportedVerb(t *testing.T) {
	tests := []struct {
		doc  string
		verb string
		line int
	}{
		{"<Response><Say>Hello</Say></Response>", "Say", 1},
		{"<Response>\n<Dial><Sip>sip:a@b.example</Sip></Dial>\n<Hangup/>\n<Play>x.wav</Play></Response>", "Hangup", 3},
		{"<Response><Gather input=\"dtmf\"><Say>Press 1</Say></Gather></Response>", "Gather", 1},
		{"<Response><Connect><Stream url=\"wss://x\"/></Connect></Response>", "Connect", 1},
		{"<Response><Pause length=\"2\"/><Redirect>/next</Redirect><Reject/></Response>", "Pause", 1},
	}
	for _, tt := range tests {
		ins, err := ParseTwiML([]byte(tt.doc))
		var ue *UnsupportedVerbError
		if !errors.As(err, &ue) {
			t.Errorf("ParseTwiML(%q) = %v, %v; want an *UnsupportedVerbError", tt.doc, ins, err)
			continue
		}
		if ue.Verb != tt.verb || ue.Line != tt.line || ins != nil {
			t.Errorf("ParseTwiML(%q): verb %q line %d, want %q line %d", tt.doc, ue.Verb, ue.Line, tt.verb, tt.line)
		}
		if !strings.Contains(err.Error(), "<"+tt.verb+"> is not a forwarding verb") {
			t.Errorf("error %q", err)
		}
	}
}

func TestParseTwiMLErrors(t *testing.T) {
	dial := func(attrs, sip string) string {
		return "<Response><Dial" + attrs + ">" + sip + "</Dial></Response>"
	}
	sipOK := "<Sip>sip:a@b.example</Sip>"
	tests := []struct {
		name      string
		doc       string
		element   string
		attribute string
		want      string
		line      int
	}{
		{name: "too big", doc: "<Response>" + strings.Repeat(" ", MaxTwiMLSize) + "</Response>", want: "limit is 65536"},
		{name: "empty", doc: "", want: "no <Response>"},
		{name: "white space", doc: " \n ", want: "no <Response>"},
		{name: "not XML", doc: "sip:a@b.example", want: "text outside <Response>"},
		{name: "JSON", doc: `{"dial":"sip:a@b"}`, want: "text outside"},
		{name: "unclosed", doc: "<Response><Dial>", want: "malformed XML"},
		{name: "mismatched", doc: "<Response><Dial></Response>", want: "malformed XML"},
		{name: "bad entity", doc: "<Response>&bogus;</Response>", want: "malformed XML"},
		{name: "doctype", doc: `<!DOCTYPE Response [<!ENTITY x "sip:a@b.example">]><Response/>`, want: "DOCTYPE"},
		{name: "processing instruction", doc: `<Response><?php echo 1 ?></Response>`, element: "Response", want: "processing instructions"},
		{name: "processing instruction outside", doc: `<?php echo 1 ?><Response/>`, want: "<?php?> is not allowed"},
		{name: "other encoding", doc: `<?xml version="1.0" encoding="ISO-8859-1"?><Response/>`, want: "malformed XML"},
		{name: "root", doc: "<Dial><Sip>sip:a@b.example</Sip></Dial>", element: "Dial", want: "must be a <Response>"},
		{name: "lower case root", doc: "<response/>", element: "response", want: "must be a <Response>"},
		{name: "two roots", doc: "<Response/><Response/>", element: "Response", want: "after </Response>"},
		{name: "response attribute", doc: `<Response voice="alice"/>`, element: "Response", attribute: "voice", want: "unknown attribute"},
		{name: "namespace", doc: `<Response xmlns="urn:x"/>`, element: "Response", want: "namespace"},
		{name: "unknown verb", doc: "<Response><Forward>sip:a@b.example</Forward></Response>", element: "Forward", want: "unknown element in <Response>"},
		{name: "lower case verb", doc: "<Response><dial>sip:a@b.example</dial></Response>", element: "dial", want: "unknown element"},
		{name: "text in response", doc: "<Response>sip:a@b.example</Response>", element: "Response", want: "text between verbs"},
		{name: "dial number", doc: dial("", "+15550100"), element: "Dial", want: "a number or name as text is not supported"},
		{name: "dial text and sip", doc: dial("", sipOK+" x"), element: "Dial", want: "as text is not supported"},
		{name: "dial Number", doc: dial("", "<Number>+15550100</Number>"), element: "Number", want: "not supported in <Dial>"},
		{name: "dial Number", doc: dial("", "<Number>+15550100</Number>"), element: "Number", want: "not supported in <Dial>"},
		{name: "client with identity", doc: dial("", "<Client><Identity>bob</Identity></Client>"), element: "Identity", want: "not supported inside <Client>"},
		{name: "client bad name", doc: dial("", "<Client>bob smith</Client>"), element: "Client", want: "not allowed"},
		{name: "client empty", doc: dial("", "<Client> </Client>"), element: "Client", want: "no name"},
		{name: "client url", doc: dial("", `<Client url="https://x.example/">bob</Client>`), element: "Client", attribute: "url", want: "not supported"},
		{name: "client and sip", doc: dial("", "<Client>bob</Client>"+sipOK), element: "Dial", want: "more than one target"},
		{name: "refer client", doc: "<Response><Refer><Client>bob</Client></Refer></Response>", element: "Client", want: "not supported in <Refer>"},
		{name: "dial unknown child", doc: dial("", "<Phone>1</Phone>"), element: "Phone", want: "unknown element in <Dial>"},
		{name: "dial empty", doc: dial("", ""), element: "Dial", want: "no <Sip>"},
		{name: "two sip", doc: dial("", sipOK+sipOK), element: "Dial", want: "more than one target"},
		{name: "unknown attribute", doc: dial(` foo="1"`, sipOK), element: "Dial", attribute: "foo", want: "unknown attribute"},
		{name: "namespaced attribute", doc: dial(` x:timeout="1" xmlns:x="urn:x"`, sipOK), element: "Dial", attribute: "urn:x:timeout", want: "unknown attribute"},
		{name: "duplicate attribute", doc: dial(` timeout="5" timeout="6"`, sipOK), element: "Dial", attribute: "timeout", want: "given twice"},
		{name: "referUrl", doc: dial(` referUrl="/r"`, sipOK), element: "Dial", attribute: "referUrl", want: "not supported"},
		{name: "recording callback", doc: dial(` recordingStatusCallback="/r"`, sipOK), element: "Dial", attribute: "recordingStatusCallback", want: "not supported"},
		{name: "timeout word", doc: dial(` timeout="soon"`, sipOK), element: "Dial", attribute: "timeout", want: "not a whole number of seconds"},
		{name: "timeout fraction", doc: dial(` timeout="2.5"`, sipOK), element: "Dial", attribute: "timeout", want: "whole number"},
		{name: "timeout negative", doc: dial(` timeout="-1"`, sipOK), element: "Dial", attribute: "timeout", want: "whole number"},
		{name: "timeout space", doc: dial(` timeout=" 30"`, sipOK), element: "Dial", attribute: "timeout", want: "whole number"},
		{name: "timeout zero", doc: dial(` timeout="0"`, sipOK), element: "Dial", attribute: "timeout", want: "1 to 600"},
		{name: "timeout empty", doc: dial(` timeout=""`, sipOK), element: "Dial", attribute: "timeout", want: "1 to 600"},
		{name: "timeout too long", doc: dial(` timeout="601"`, sipOK), element: "Dial", attribute: "timeout", want: "more than 600"},
		{name: "timeout huge", doc: dial(` timeout="99999999999999999999999"`, sipOK), element: "Dial", attribute: "timeout", want: "more than 600"},
		{name: "time limit", doc: dial(` timeLimit="86401"`, sipOK), element: "Dial", attribute: "timeLimit", want: "more than 86400"},
		{name: "caller id", doc: dial(` callerId="Sales Desk"`, sipOK), element: "Dial", attribute: "callerId", want: "not allowed"},
		{name: "caller id CRLF", doc: dial(` callerId="a&#13;&#10;Via: x"`, sipOK), element: "Dial", attribute: "callerId", want: "not allowed"},
		{name: "caller id empty", doc: dial(` callerId=""`, sipOK), element: "Dial", attribute: "callerId", want: "empty"},
		{name: "answerOnBridge", doc: dial(` answerOnBridge="yes"`, sipOK), element: "Dial", attribute: "answerOnBridge", want: "true or false"},
		{name: "hangupOnStar", doc: dial(` hangupOnStar="1"`, sipOK), element: "Dial", attribute: "hangupOnStar", want: "true or false"},
		{name: "record", doc: dial(` record="record-from-answer"`, sipOK), element: "Dial", attribute: "record", want: "not supported"},
		{name: "record bogus", doc: dial(` record="yes"`, sipOK), element: "Dial", attribute: "record", want: "not supported"},
		{name: "trim", doc: dial(` trim="some"`, sipOK), element: "Dial", attribute: "trim", want: "trim-silence"},
		{name: "method", doc: dial(` method="PUT"`, sipOK), element: "Dial", attribute: "method", want: "GET or POST"},
		{name: "action scheme", doc: dial(` action="javascript:alert(1)"`, sipOK), element: "Dial", attribute: "action", want: "scheme"},
		{name: "action empty", doc: dial(` action=""`, sipOK), element: "Dial", attribute: "action", want: "empty URL"},
		{name: "action space", doc: dial(` action="/a b"`, sipOK), element: "Dial", attribute: "action", want: "escaped"},
		{name: "action bad", doc: dial(` action="http://[::1"`, sipOK), element: "Dial", attribute: "action", want: "not a URL"},
		{name: "sip url", doc: dial("", `<Sip url="/screen">sip:a@b.example</Sip>`), element: "Sip", attribute: "url", want: "not supported"},
		{name: "sip status callback", doc: dial("", `<Sip statusCallback="/s">sip:a@b.example</Sip>`), element: "Sip", attribute: "statusCallback", want: "not supported"},
		{name: "sip machine detection", doc: dial("", `<Sip machineDetection="Enable">sip:a@b.example</Sip>`), element: "Sip", attribute: "machineDetection", want: "not supported"},
		{name: "sip unknown attribute", doc: dial("", `<Sip user="a">sip:a@b.example</Sip>`), element: "Sip", attribute: "user", want: "unknown attribute"},
		{name: "sip username alone", doc: dial("", `<Sip username="a">sip:a@b.example</Sip>`), element: "Sip", want: "go together"},
		{name: "sip username empty", doc: dial("", `<Sip username="" password="p">sip:a@b.example</Sip>`), element: "Sip", attribute: "username", want: "empty"},
		{name: "sip username quote", doc: dial("", `<Sip username="a&quot;b" password="p">sip:a@b.example</Sip>`), element: "Sip", want: "username"},
		{name: "sip child", doc: dial("", `<Sip><Uri>sip:a@b.example</Uri></Sip>`), element: "Uri", want: "no elements are allowed inside <Sip>"},
		{name: "sip empty", doc: dial("", `<Sip> </Sip>`), element: "Sip", want: "no URI"},
		{name: "sip tel", doc: dial("", `<Sip>tel:+15550100</Sip>`), element: "Sip", want: `target "tel:+15550100": scheme "tel": want sip or sips`},
		{name: "sip injection", doc: dial("", `<Sip>sip:a@b.example?X-a=b%0d%0aVia:%20evil</Sip>`), element: "Sip", want: "control character"},
		{name: "sip injection by entity", doc: dial("", `<Sip>sip:a@b.example?X-a=b&#13;&#10;Via: evil</Sip>`), element: "Sip", want: `character '\r'`},
		{name: "sip header not allowed", doc: dial("", `<Sip>sip:a@b.example?Contact=x</Sip>`), element: "Sip", want: `header "Contact" is not allowed`},
		{name: "refer unknown attribute", doc: `<Response><Refer timeout="5"><Sip>sip:a@b.example</Sip></Refer></Response>`, element: "Refer", attribute: "timeout", want: "unknown attribute"},
		{name: "refer credentials", doc: `<Response><Refer><Sip username="a" password="b">sip:a@b.example</Sip></Refer></Response>`, element: "Sip", attribute: "username", want: "not supported in <Refer>"},
		{name: "refer empty", doc: `<Response><Refer/></Response>`, element: "Refer", want: "no <Sip>"},
		{name: "refer number", doc: `<Response><Refer><Number>1</Number></Refer></Response>`, element: "Number", want: "unknown element in <Refer>"},
		{name: "refer method", doc: `<Response><Refer method="DELETE"><Sip>sip:a@b.example</Sip></Refer></Response>`, element: "Refer", attribute: "method", want: "GET or POST"},
		{name: "deep nesting", doc: "<Response><Gather>" + strings.Repeat("<a>", 40) + strings.Repeat("</a>", 40) + "</Gather></Response>", want: "nested deeper than 32"},
		{name: "line number", doc: "<Response>\n\n<Dial\n timeout=\"x\">" + sipOK + "</Dial></Response>", element: "Dial", attribute: "timeout", want: "line 4", line: 4},
		{name: "sip line number", doc: "<Response>\n<Dial>\n<Sip>sip:a@b.example;transport=ws</Sip></Dial></Response>", element: "Sip", want: "line 3", line: 3},
		{name: "error wins over unsupported verb", doc: "<Response><Say>hi</Say><Dial>+1555</Dial></Response>", element: "Dial", want: "as text"},
		{name: "malformed after unsupported verb", doc: "<Response><Say>hi</Say><Play>", want: "malformed XML"},
		{name: "error after response", doc: "<Response/>x", want: "text outside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ins, err := ParseTwiML([]byte(tt.doc))
			var te *TwiMLError
			if !errors.As(err, &te) {
				t.Fatalf("ParseTwiML = %v, %v; want a *TwiMLError", ins, err)
			}
			if ins != nil {
				t.Errorf("instructions %v with an error", ins)
			}
			if te.Element != tt.element || te.Attribute != tt.attribute {
				t.Errorf("error %q: element %q attribute %q, want %q %q", err, te.Element, te.Attribute, tt.element, tt.attribute)
			}
			if tt.line != 0 && te.Line != tt.line {
				t.Errorf("error %q: line %d, want %d", err, te.Line, tt.line)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) || !strings.HasPrefix(msg, "transfer: TwiML") || strings.ContainsAny(msg, "\r\n") {
				t.Errorf("error %q: want one line starting transfer: TwiML and containing %q", msg, tt.want)
			}
		})
	}
}

func TestParseTwiMLTargetError(t *testing.T) {
	_, err := ParseTwiML([]byte(`<Response><Dial><Sip>sip:a@b.example;maddr=evil.example</Sip></Dial></Response>`))
	var te *TargetError
	if !errors.As(err, &te) || !strings.Contains(te.Reason, "maddr") {
		t.Errorf("error %v: want a wrapped *TargetError about maddr", err)
	}
}

// <Dial><Client> names a user registered to sipagent: a bridge to her,
// with the <Dial> attributes.
func TestParseTwiMLClient(t *testing.T) {
	ins, err := ParseTwiML([]byte(`<Response><Dial timeout="15" callerId="+15550100"><Client> alice </Client></Dial></Response>`))
	if err != nil {
		t.Fatal(err)
	}
	tg := ins[0].Target
	if tg.Client != "alice" || tg.String() != "client:alice" || tg.Mode != ModeBridge || tg.Timeout != 15*time.Second || tg.CallerID != "+15550100" {
		t.Errorf("target %+v", tg)
	}
	if err := tg.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if req := ins[0].Request(); req.Target != "client:alice" {
		t.Errorf("request target %q", req.Target)
	}
}
