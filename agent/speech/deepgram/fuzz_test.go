package deepgram

import (
	"log/slog"
	"strings"
	"testing"
)

// FuzzDecode feeds arbitrary server messages to the decoder and the
// utterance logic: no panic, confidences within 0-1, text trimmed, and
// every Final preceded by a SpeechStarted.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		results("sales", 0.9, true, true),
		results(" two  words ", 1.5, false, false),
		`{"type":"SpeechStarted","channel":[0],"timestamp":0.2}`,
		`{"type":"UtteranceEnd","channel":[0,1],"last_word_end":2.1}`,
		`{"type":"Metadata","request_id":"x","duration":0,"channels":0}`,
		`{"type":"Error","variant":"DATA-0000","description":"bad"}`,
		`{"type":"Results","channel":[0]}`,
		`{"type":"Results","channel":{"alternatives":[]}}`,
		`{"type":""}`, `[]`, `null`, `{`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := decode(b)
		if err != nil {
			return
		}
		if ev.kind == "" {
			t.Fatal("decoded a message without a type")
		}
		if ev.confidence < 0 || ev.confidence > 1 {
			t.Fatalf("confidence %v", ev.confidence)
		}
		if ev.text != strings.Join(strings.Fields(ev.text), " ") {
			t.Fatalf("text %q not normalised", ev.text)
		}
		if ev.speechFinal && !ev.isFinal {
			t.Fatal("speech_final without is_final")
		}
		s := &Stream{log: slog.New(slog.DiscardHandler)}
		// Twice, so that state carried between messages is exercised.
		for range 2 {
			started := s.started
			for _, tr := range s.handle(ev) {
				if tr.SpeechStarted {
					started = true
				}
				if tr.Final && !started {
					t.Fatalf("Final %+v without SpeechStarted", tr)
				}
				if tr.Confidence < 0 || tr.Confidence > 1 {
					t.Fatalf("transcript confidence %v", tr.Confidence)
				}
			}
		}
	})
}
