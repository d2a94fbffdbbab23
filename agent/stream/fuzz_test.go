package stream

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// FuzzDecode checks that Decode never panics, that it fails only with
// the package's errors, and that what it accepts is consistent: the kind
// matches the event, and a media payload is no longer than the base64 in
// the message could carry. It also feeds the input as a media payload, which
// must come back byte for byte. Seeds are below and in
// testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"event":"media","streamSid":"MZ1","media":{"payload":"AAH/"}}`,
		`{"event":"media","media":{"payload":"/w"}}`,
		`{"event":"media","media":{"payload":""}}`,
		`{"event":"mark","streamSid":"MZ1","mark":{"name":"x"}}`,
		`{"event":"clear","streamSid":"MZ1"}`,
		`{"event":"start","start":{"customParameters":{"a":"b"}}}`,
		`{"event":"media"}`,
		`{"event":"media","media":{"payload":"#$%^"}}`,
		`{"event":5}`,
		`{"EVENT":"clear"}`,
		`null`,
		`[`,
		"",
	} {
		f.Add([]byte(seed))
	}
	sentinels := []error{ErrMalformed, ErrNoEvent, ErrMissingField, ErrBadPayload}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if err != nil {
			known := false
			for _, s := range sentinels {
				known = known || errors.Is(err, s)
			}
			if !known || !strings.HasPrefix(err.Error(), "stream: ") {
				t.Fatalf("Decode error %q is none of the package's", err)
			}
			if m.Kind != KindUnknown || m.Event != "" || m.Payload != nil {
				t.Fatalf("Decode failed but returned %+v", m)
			}
		} else {
			if m.Event == "" {
				t.Fatal("Decode accepted a message without event")
			}
			if m.Kind.String() != m.Event && m.Kind != KindUnknown {
				t.Fatalf("kind %v for event %q", m.Kind, m.Event)
			}
			// base64 carries 3 bytes in 4 characters.
			if m.Kind == KindMedia && len(m.Payload) > len(data)*3/4 {
				t.Fatalf("payload of %d bytes from a %d-byte message", len(m.Payload), len(data))
			}
		}

		// Any bytes sent as a media payload come back unchanged.
		msg := `{"event":"media","streamSid":"MZ1","media":{"payload":"` + base64.StdEncoding.EncodeToString(data) + `"}}`
		m, err = Decode([]byte(msg))
		if err != nil || m.Kind != KindMedia || !bytes.Equal(m.Payload, data) {
			t.Fatalf("media of %q decoded to %+v, %v", data, m, err)
		}
	})
}
