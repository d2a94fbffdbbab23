package stream

import (
	"bytes"
	"errors"
	"testing"
)

func TestDecode(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		want Message
		err  error
	}{
		{"media", `{"event":"media","streamSid":"MZ1","media":{"payload":"AAH/"}}`,
			Message{Kind: KindMedia, Event: "media", StreamSid: "MZ1", Payload: []byte{0, 1, 0xff}}, nil},
		{"media odd size", `{"event":"media","media":{"payload":"/w=="}}`,
			Message{Kind: KindMedia, Event: "media", Payload: []byte{0xff}}, nil},
		{"media unpadded", `{"event":"media","media":{"payload":"/w"}}`,
			Message{Kind: KindMedia, Event: "media", Payload: []byte{0xff}}, nil},
		{"media empty", `{"event":"media","media":{"payload":""}}`,
			Message{Kind: KindMedia, Event: "media", Payload: []byte{}}, nil},
		{"media extra fields", `{"event":"media","sequenceNumber":"3","media":{"track":"outbound","payload":"AA==","chunk":"1"}}`,
			Message{Kind: KindMedia, Event: "media", Payload: []byte{0}}, nil},
		{"mark", `{"event":"mark","streamSid":"MZ1","mark":{"name":"end of turn"}}`,
			Message{Kind: KindMark, Event: "mark", StreamSid: "MZ1", Mark: "end of turn"}, nil},
		{"clear", `{"event":"clear","streamSid":"MZ1"}`, Message{Kind: KindClear, Event: "clear", StreamSid: "MZ1"}, nil},
		{"unknown event", `{"event":"start","start":{}}`, Message{Kind: KindUnknown, Event: "start"}, nil},
		{"not JSON", `hello`, Message{}, ErrMalformed},
		{"truncated", `{"event":"media","media":{"payload":"AA==`, Message{}, ErrMalformed},
		{"array", `[1,2]`, Message{}, ErrMalformed},
		{"event not a string", `{"event":5}`, Message{}, ErrMalformed},
		{"payload not a string", `{"event":"media","media":{"payload":[]}}`, Message{}, ErrMalformed},
		{"no event", `{"streamSid":"MZ1"}`, Message{}, ErrNoEvent},
		{"null", `null`, Message{}, ErrNoEvent},
		{"media without media", `{"event":"media","streamSid":"MZ1"}`, Message{}, ErrMissingField},
		{"mark without mark", `{"event":"mark"}`, Message{}, ErrMissingField},
		{"bad base64", `{"event":"media","media":{"payload":"#$%^"}}`, Message{}, ErrBadPayload},
		{"base64 bad length", `{"event":"media","media":{"payload":"A"}}`, Message{}, ErrBadPayload},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode([]byte(tt.in))
			if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Fatalf("Decode error = %v, want %v", err, tt.err)
			}
			if got.Kind != tt.want.Kind || got.Event != tt.want.Event || got.StreamSid != tt.want.StreamSid ||
				got.Mark != tt.want.Mark || !bytes.Equal(got.Payload, tt.want.Payload) {
				t.Errorf("Decode = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{KindMedia: "media", KindMark: "mark", KindClear: "clear", KindUnknown: "unknown", 9: "unknown"} {
		if k.String() != want {
			t.Errorf("Kind(%d) = %q, want %q", k, k.String(), want)
		}
	}
}
