package voiceflow

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Trace is one step of Voiceflow's answer to a request.
type Trace struct {
	// Type is speak, text, choice, end, or a custom action's name.
	Type string `json:"type"`
	// Payload is kept raw: its shape depends on Type (an object for
	// speak and text, a string body for custom actions).
	Payload json.RawMessage `json:"payload,omitempty"`
	// Paths and DefaultPath are a custom action's ways on: the request
	// that resumes the conversation names one path's event type.
	Paths       []Path `json:"paths,omitempty"`
	DefaultPath int    `json:"defaultPath,omitempty"`
}

// Path is one way on from a custom action.
type Path struct {
	Event struct {
		Type string `json:"type"`
	} `json:"event"`
}

// speakPayload is a speak trace's payload.
type speakPayload struct {
	Type    string `json:"type"` // message or audio
	Message string `json:"message"`
	Src     string `json:"src"` // data:audio/mpeg;base64,... or a URL
}

// textPayload is a text trace's payload.
type textPayload struct {
	Message string `json:"message"`
}

// choicePayload is a choice trace's payload: buttons whose names are
// what the caller is likely to say.
type choicePayload struct {
	Buttons []struct {
		Name string `json:"name"`
	} `json:"buttons"`
}

// Limits on what a response may hold.
const (
	maxResponse = 8 << 20 // bytes: TTS audio comes inline
	maxTraces   = 256
)

// errNoTraces is a response that is not a list of traces.
var errNoTraces = errors.New("voiceflow: response is not a JSON array of traces")

// DecodeTraces parses a Dialog Manager response: a JSON array of traces.
// Each trace needs a type; payloads are checked when they are used.
func DecodeTraces(b []byte) ([]Trace, error) {
	if len(b) > maxResponse {
		return nil, fmt.Errorf("voiceflow: response is %d bytes; the limit is %d", len(b), maxResponse)
	}
	var traces []Trace
	if err := json.Unmarshal(b, &traces); err != nil {
		return nil, fmt.Errorf("%w: %v", errNoTraces, err)
	}
	if len(traces) > maxTraces {
		return nil, fmt.Errorf("voiceflow: %d traces; the limit is %d", len(traces), maxTraces)
	}
	for i, t := range traces {
		if t.Type == "" {
			return nil, fmt.Errorf("voiceflow: trace %d has no type", i)
		}
	}
	return traces, nil
}

// text returns a custom action's payload as the string body Voiceflow
// sends (a JSON string), or the raw JSON if it is an object.
func (t Trace) text() string {
	var s string
	if json.Unmarshal(t.Payload, &s) == nil {
		return s
	}
	return string(t.Payload)
}

// hasPath reports whether the action has a path named name.
func (t Trace) hasPath(name string) bool {
	for _, p := range t.Paths {
		if p.Event.Type == name {
			return true
		}
	}
	return false
}

// pathFor returns the event type of the path named want, else of the
// default path, else "".
func (t Trace) pathFor(want ...string) string {
	for _, w := range want {
		if t.hasPath(w) {
			return w
		}
	}
	if t.DefaultPath >= 0 && t.DefaultPath < len(t.Paths) {
		return t.Paths[t.DefaultPath].Event.Type
	}
	return ""
}
