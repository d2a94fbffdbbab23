package transfer

import (
	"testing"
	"time"
)

// A <Dial><Sip> becomes a request whose target parses back to the same
// destination, parameters and headers, with the verb's attributes.
func TestInstructionRequest(t *testing.T) {
	ins, err := ParseTwiML([]byte(`<Response><Dial timeout="12"><Sip username="u" password="p">sip:sales@example.com;transport=tcp;secure=true?X-Ref=a%20b</Sip></Dial></Response>`))
	if err != nil {
		t.Fatal(err)
	}
	req := ins[0].Request()
	if req.Mode != "bridge" || req.Timeout != 12*time.Second || req.Username != "u" || req.Password != "p" {
		t.Errorf("request %+v", req)
	}
	back, err := ParseTarget(req.Target)
	if err != nil {
		t.Fatalf("%q: %v", req.Target, err)
	}
	if back.URI.User != "sales" || back.URI.Host != "example.com" || back.Transport != "tcp" || !back.Secure ||
		len(back.Headers) != 1 || back.Headers[0] != (Header{"X-Ref", "a b"}) {
		t.Errorf("target %q parsed back as %+v", req.Target, back)
	}
}
