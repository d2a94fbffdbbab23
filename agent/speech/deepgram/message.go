package deepgram

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
)

// Message types the server sends on /v1/listen, as Deepgram documents
// them (developers.deepgram.com: reference/speech-to-text/listen-streaming,
// docs/speech-started, docs/utterance-end, docs/close-stream):
//
//	{"type":"Results","is_final":true,"speech_final":true,
//	 "channel":{"alternatives":[{"transcript":"sales","confidence":0.98}]}, ...}
//	{"type":"SpeechStarted","channel":[0],"timestamp":1.2}
//	{"type":"UtteranceEnd","channel":[0,1],"last_word_end":2.4}
//	{"type":"Metadata","request_id":"...","duration":0.0,"channels":0}
//	{"type":"Error","description":"...","message":"...","variant":"..."}
//
// "channel" is an object in Results but a list of channel numbers in the
// others, so the message is decoded in two steps.
const (
	typeResults       = "Results"
	typeSpeechStarted = "SpeechStarted"
	typeUtteranceEnd  = "UtteranceEnd"
	typeMetadata      = "Metadata"
	typeError         = "Error"
)

// Messages the client sends (docs/audio-keep-alive, docs/close-stream):
// text frames, never binary, which carry audio.
const (
	msgKeepAlive   = `{"type":"KeepAlive"}`
	msgCloseStream = `{"type":"CloseStream"}`
)

// event is one decoded server message.
type event struct {
	kind        string // one of the type constants, or what else the server said
	text        string // Results: the best alternative's transcript
	confidence  float64
	isFinal     bool
	speechFinal bool
	errText     string // Error: what went wrong
}

var errNotJSON = errors.New("deepgram: message is not a JSON object with a type")

// decode reads one text message from the server.
func decode(b []byte) (event, error) {
	var m struct {
		Type        string          `json:"type"`
		IsFinal     bool            `json:"is_final"`
		SpeechFinal bool            `json:"speech_final"`
		Channel     json.RawMessage `json:"channel"`
		Description string          `json:"description"`
		Message     string          `json:"message"`
		Variant     string          `json:"variant"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return event{}, fmt.Errorf("%w: %w", errNotJSON, err)
	}
	if m.Type == "" {
		return event{}, errNotJSON
	}
	ev := event{kind: m.Type}
	switch m.Type {
	case typeResults:
		var ch struct {
			Alternatives []struct {
				Transcript string  `json:"transcript"`
				Confidence float64 `json:"confidence"`
			} `json:"alternatives"`
		}
		if len(m.Channel) > 0 {
			if err := json.Unmarshal(m.Channel, &ch); err != nil {
				return event{}, fmt.Errorf("deepgram: Results channel: %w", err)
			}
		}
		if len(ch.Alternatives) > 0 {
			a := ch.Alternatives[0]
			ev.text = strings.Join(strings.Fields(a.Transcript), " ")
			ev.confidence = clamp01(a.Confidence)
		}
		ev.isFinal = m.IsFinal || m.SpeechFinal // speech_final implies is_final
		ev.speechFinal = m.SpeechFinal
	case typeError:
		ev.errText = strings.TrimSpace(strings.Join(nonEmpty(m.Variant, m.Description, m.Message), ": "))
		if ev.errText == "" {
			ev.errText = "unspecified error"
		}
	}
	return ev, nil
}

func clamp01(f float64) float64 {
	if math.IsNaN(f) {
		return 0
	}
	return max(0, min(1, f))
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
