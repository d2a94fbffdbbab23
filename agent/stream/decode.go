package stream

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// Kind is the kind of a message from the agent.
type Kind uint8

// The messages an agent may send. Anything else is KindUnknown, which Run
// counts and ignores, as a later protocol version may add events.
const (
	KindUnknown Kind = iota
	KindMedia        // audio to play: Message.Payload
	KindMark         // a mark to return once the audio before it is played
	KindClear        // drop all queued audio now (barge-in)
)

// String returns the event name of k.
func (k Kind) String() string {
	switch k {
	case KindMedia:
		return "media"
	case KindMark:
		return "mark"
	case KindClear:
		return "clear"
	}
	return "unknown"
}

// Message is one message from the agent.
type Message struct {
	Kind Kind
	// Event is the event name as sent, e.g. "media".
	Event string
	// StreamSid is the streamSid the agent gave, if any. Twilio's agents
	// echo the one from start; Run does not insist on it.
	StreamSid string
	// Payload is a media message's mu-law audio, decoded from base64.
	// It may have any length, odd ones and zero included.
	Payload []byte
	// Mark is a mark message's name.
	Mark string
}

// wireMessage is the JSON of a message from the agent.
type wireMessage struct {
	Event     string `json:"event"`
	StreamSid string `json:"streamSid"`
	Media     *struct {
		Payload string `json:"payload"`
	} `json:"media"`
	Mark *struct {
		Name string `json:"name"`
	} `json:"mark"`
}

// Decode parses one message from the agent:
//
//	{"event":"media","streamSid":"MZ..","media":{"payload":"<base64 mu-law>"}}
//	{"event":"mark","streamSid":"MZ..","mark":{"name":"x"}}
//	{"event":"clear","streamSid":"MZ.."}
//
// It fails with ErrMalformed for anything but a JSON object of the right
// field types, ErrNoEvent without an event, ErrMissingField for media
// without media or mark without mark, and ErrBadPayload if the payload is
// not base64 (padded or not). An unknown event is not an error: it
// returns KindUnknown. Fields it does not know are ignored.
func Decode(data []byte) (Message, error) {
	var w wireMessage
	if err := json.Unmarshal(data, &w); err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if w.Event == "" {
		return Message{}, ErrNoEvent
	}
	m := Message{Event: w.Event, StreamSid: w.StreamSid}
	switch w.Event {
	case "media":
		if w.Media == nil {
			return Message{}, fmt.Errorf("%w: media message without media", ErrMissingField)
		}
		payload, err := decodeBase64(w.Media.Payload)
		if err != nil {
			return Message{}, fmt.Errorf("%w: %v", ErrBadPayload, err)
		}
		m.Kind, m.Payload = KindMedia, payload
	case "mark":
		if w.Mark == nil {
			return Message{}, fmt.Errorf("%w: mark message without mark", ErrMissingField)
		}
		m.Kind, m.Mark = KindMark, w.Mark.Name
	case "clear":
		m.Kind = KindClear
	}
	return m, nil
}

// decodeBase64 decodes standard base64, with or without padding: Twilio
// and Python's base64 pad, some JavaScript encoders do not.
func decodeBase64(s string) ([]byte, error) {
	enc := base64.StdEncoding
	if len(s)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	return enc.DecodeString(s)
}
