package sdp

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	psdp "github.com/pion/sdp/v3"
)

// TestPionTraps records the pion/sdp v3.0.20 behaviour that parse works
// around. If a pion/sdp upgrade makes one of these pass, the matching
// rewrite in normalize may go.
func TestPionTraps(t *testing.T) {
	crlf := func(name string) string { return strings.ReplaceAll(mustReadTestdata(name), "\n", "\r\n") }
	for _, tc := range []struct {
		name string
		body string
	}{
		{"session c= after t= (pion/sdp#163)", crlf("session-c-after-t.sdp")},
		{"m=image udptl (T.38)", crlf("t38.sdp")},
		{"no final CRLF", strings.TrimSuffix(crlf("twilio.sdp"), "\r\n")},
		{"trailing blank after b=", strings.Replace(crlf("baresip.sdp"), "b=AS:128", "b=AS:128 ", 1)},
		{"b= of an unregistered type", strings.Replace(crlf("baresip.sdp"), "b=AS:128", "b=X:128", 1)},
		{"session a= before t=", strings.Replace(crlf("twilio.sdp"), "t=0 0\r\n", "a=tool:x\r\nt=0 0\r\n", 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := new(psdp.SessionDescription).UnmarshalString(tc.body); err == nil {
				t.Errorf("pion/sdp now parses this; the workaround in normalize may go")
			}
			if _, err := parse([]byte(tc.body)); err != nil {
				t.Errorf("parse: %v", err)
			}
		})
	}

	t.Run("no final CRLF is a bare io.EOF", func(t *testing.T) {
		err := new(psdp.SessionDescription).UnmarshalString(strings.TrimSuffix(crlf("twilio.sdp"), "\r\n"))
		if err != io.EOF { // not wrapped, so errors.Is(err, io.ErrUnexpectedEOF) misses it
			t.Logf("pion/sdp now returns %v", err)
		}
	})
	t.Run("trailing blank stays in the attribute", func(t *testing.T) {
		sd := new(psdp.SessionDescription)
		if err := sd.UnmarshalString(strings.ReplaceAll(crlf("twilio.sdp"), "a=sendrecv", "a=sendrecv ")); err != nil {
			t.Fatal(err)
		}
		if _, ok := sd.MediaDescriptions[0].Attribute("sendrecv"); ok {
			t.Errorf("pion/sdp now trims attribute keys")
		}
	})
	t.Run("o= session id overflows silently", func(t *testing.T) {
		sd := new(psdp.SessionDescription)
		if err := sd.UnmarshalString("v=0\r\no=- 99999999999999999999999 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"); err != nil {
			t.Fatal(err)
		}
		if sd.Origin.SessionID == 1<<64-1 {
			t.Errorf("pion/sdp now saturates")
		}
	})
}

func TestParseRewrites(t *testing.T) {
	const body = "  v=0\r\n" +
		"o=- 1 2 IN IP4 192.0.2.1 \n" +
		"s=-\r" +
		"i=some session\n" +
		"u=http://[bad\n" +
		"e=x@example.com\n" +
		"p=+1 555\n" +
		"t=0 0\n" +
		"r=7d 1h 0 25h\n" +
		"z=2882844526 -1h\n" +
		"k=prompt\n" +
		"b=CT:128\n" +
		"a=sendonly\n" +
		"c=IN IP4 192.0.2.1\n" +
		"c=IN IP4 192.0.2.99\n" +
		"\n\n" +
		"m=image 5000/2 udptl t38\n" +
		"a=T38FaxVersion:0\n" +
		"i=fax\n" +
		"c=IN IP4 192.0.2.2\n" +
		"b=AS:1\n" +
		"m=audio\t6000  RTP/AVP\t0 8\n" +
		"a=ptime:20\t"
	sd, err := parse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if sd.Origin.SessionVersion != 2 || sd.ConnectionInformation.Address.Address != "192.0.2.1" {
		t.Errorf("session: o=%v c=%v", sd.Origin, sd.ConnectionInformation)
	}
	if len(sd.Attributes) != 1 || sd.Attributes[0].Key != "sendonly" {
		t.Errorf("session attributes %v", sd.Attributes)
	}
	if len(sd.MediaDescriptions) != 2 {
		t.Fatalf("%d media", len(sd.MediaDescriptions))
	}
	image, audio := sd.MediaDescriptions[0], sd.MediaDescriptions[1]
	if image.MediaName.Media != "image" || image.MediaName.Port.Value != 5000 || proto(image.MediaName) != "udptl" ||
		!slices.Equal(image.MediaName.Formats, []string{"t38"}) || image.ConnectionInformation.Address.Address != "192.0.2.2" {
		t.Errorf("image: %v %v", image.MediaName, image.ConnectionInformation)
	}
	if audio.MediaName.String() != "audio 6000 RTP/AVP 0 8" || audio.ConnectionInformation != nil {
		t.Errorf("audio: %v %v", audio.MediaName, audio.ConnectionInformation)
	}
	if v, _ := audio.Attribute("ptime"); v != "20" {
		t.Errorf("a=ptime:%q", v)
	}
}

func TestParseErrors(t *testing.T) {
	const head = "v=0\no=- 1 1 IN IP4 192.0.2.9\ns=-\nt=0 0\n"
	for _, tc := range []struct {
		name     string
		body     string
		sentinel error
	}{
		{"empty", "", ErrMalformed},
		{"blank lines only", "\r\n\r\n", ErrMalformed},
		{"no =", "v 0\n", ErrMalformed},
		{"one letter", "v\n", ErrMalformed},
		{"no v=", strings.TrimPrefix(head, "v=0\n"), ErrMalformed},
		{"no s=", strings.Replace(head, "s=-\n", "", 1), ErrMalformed},
		{"no t=", strings.Replace(head, "t=0 0\n", "", 1), ErrMalformed},
		{"v=1", strings.Replace(head, "v=0", "v=1", 1), ErrMalformed},
		{"upper-case type", head + "A=sendrecv\n", ErrUnknownLine},
		{"unknown type", head + "y=1\n", ErrUnknownLine},
		{"o= in media", head + "m=audio 1 RTP/AVP 0\no=- 1 1 IN IP4 192.0.2.9\n", ErrMalformed},
		{"m= too short", head + "m=audio 1\n", ErrMalformed},
		{"m= port not a number", head + "m=audio x RTP/AVP 0\n", ErrMalformed},
		{"m= port signed", head + "m=audio +1 RTP/AVP 0\n", ErrMalformed},
		{"m= port count bad", head + "m=audio 1/x RTP/AVP 0\n", ErrMalformed},
		{"m= non-ASCII", head + "m=audio 1 RTP/AVP 0 \xc3\xa9\n", ErrMalformed},
		{"m= control character", head + "m=audio 1 RTP/AVP 0\x0b8\n", ErrMalformed},
		{"c= not IN", head + "c=ATM NSAP x\nm=audio 1 RTP/AVP 0\n", ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse([]byte(tc.body))
			if !errors.Is(err, tc.sentinel) {
				t.Fatalf("err = %v, want %v", err, tc.sentinel)
			}
		})
	}
}

func TestSplitBlanks(t *testing.T) {
	for in, want := range map[string][]string{
		"":                {},
		" \t ":            {},
		"a":               {"a"},
		" a  b\tc ":       {"a", "b", "c"},
		"a\u00a0b":        {"a\u00a0b"}, // not an SDP separator
		"audio 0 RTP/AVP": {"audio", "0", "RTP/AVP"},
	} {
		if got := splitBlanks(in); !slices.Equal(got, want) {
			t.Errorf("splitBlanks(%q) = %q, want %q", in, got, want)
		}
	}
}
