package voiceflow

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/sipagent/sipagent/media/audiofile"
)

// maxAudioFile bounds a speak trace's audio fetched from a URL.
const maxAudioFile = 16 << 20

// run carries out a response's traces in order: speech is played, an
// end trace ends the call once played, and a custom action (which
// pauses the conversation until it is resumed) is carried out and names
// the request that resumes it.
func (s *session) run(ctx context.Context, traces []Trace) (step, error) {
	spoken := false
	for _, t := range traces {
		switch t.Type {
		case "speak":
			spoken = true
		case "choice":
			// The buttons are what the caller is likely to say, even
			// over the prompt that comes before them.
			var p choicePayload
			_ = json.Unmarshal(t.Payload, &p) // hints only: a bad one is no loss
			s.hints = s.hints[:0]
			for _, b := range p.Buttons {
				s.hints = append(s.hints, b.Name)
			}
		}
	}
	for _, t := range traces {
		switch t.Type {
		case "speak":
			pcm, err := s.speech(ctx, t)
			if err != nil {
				if hungUp(ctx, err) {
					return step{}, err
				}
				s.log.Warn("speak trace not played", "error", err)
				continue
			}
			if in, err := s.play(ctx, pcm); err != nil || in != nil {
				return step{next: in}, err
			}
		case "text":
			if spoken {
				continue // the speak traces say it already
			}
			var p textPayload
			if json.Unmarshal(t.Payload, &p) != nil || p.Message == "" {
				continue
			}
			pcm, err := s.synthesize(ctx, p.Message)
			if err != nil {
				return step{}, err
			}
			if in, err := s.play(ctx, pcm); err != nil || in != nil {
				return step{next: in}, err
			}
		case "choice":
			// read above
		case "end":
			return step{end: true}, s.call.WaitPlayed(ctx)
		default:
			if len(t.Paths) == 0 && !isTelephonyAction(t.Type) {
				continue // path, block, debug... traces say nothing to a caller
			}
			if err := s.call.WaitPlayed(ctx); err != nil {
				return step{}, err
			}
			return s.action(ctx, t)
		}
	}
	return step{}, nil
}

// speech returns a speak trace's audio: Voiceflow's TTS (a data: URI or
// a URL of MP3 or WAV), or its text through the synthesizer.
func (s *session) speech(ctx context.Context, t Trace) ([]int16, error) {
	var p speakPayload
	if err := json.Unmarshal(t.Payload, &p); err != nil {
		return nil, fmt.Errorf("voiceflow: speak payload: %w", err)
	}
	if p.Src != "" {
		pcm, err := s.fetchAudio(ctx, p.Src)
		if err == nil {
			return pcm, nil
		}
		if p.Message == "" {
			return nil, err
		}
		s.log.Info("speak audio unusable; synthesizing the text", "error", err)
	}
	if p.Message == "" {
		return nil, nil
	}
	return s.synthesize(ctx, p.Message)
}

// fetchAudio decodes a data: URI or fetches and decodes a URL.
func (s *session) fetchAudio(ctx context.Context, src string) ([]int16, error) {
	var b []byte
	if rest, ok := strings.CutPrefix(src, "data:"); ok {
		meta, data, ok := strings.Cut(rest, ",")
		if !ok || !strings.HasSuffix(meta, ";base64") {
			return nil, fmt.Errorf("voiceflow: audio data URI is not base64")
		}
		var err error
		if b, err = base64.StdEncoding.DecodeString(data); err != nil {
			return nil, fmt.Errorf("voiceflow: audio data URI: %w", err)
		}
	} else {
		if !strings.HasPrefix(src, "https://") && !strings.HasPrefix(src, "http://") {
			return nil, fmt.Errorf("voiceflow: audio src %.40q is not a data: or http(s) URL", src)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
		if err != nil {
			return nil, err
		}
		res, err := s.a.cfg.Client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("voiceflow: fetching audio: %w", err)
		}
		defer func() { _ = res.Body.Close() }()
		if res.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("voiceflow: fetching audio: HTTP %s", res.Status)
		}
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(io.LimitReader(res.Body, maxAudioFile)); err != nil {
			return nil, fmt.Errorf("voiceflow: fetching audio: %w", err)
		}
		b = buf.Bytes()
	}
	return audiofile.Decode(b)
}

func (s *session) synthesize(ctx context.Context, text string) ([]int16, error) {
	if s.a.cfg.Synthesizer == nil {
		s.log.Warn("text not spoken: no speech synthesizer configured")
		return nil, nil
	}
	return s.a.cfg.Synthesizer.Synthesize(ctx, text)
}

// isTelephonyAction reports the custom actions sipagent carries out even
// when the project gave them no paths.
func isTelephonyAction(name string) bool {
	switch name {
	case "twiml", "forward-call", "DTMF", "interruption":
		return true
	}
	return false
}
