package twiml

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/hajimehoshi/go-mp3"
	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/media/wav"
)

// errFormat is a <Play> file that is neither WAV nor MP3.
var errFormat = errors.New("not a WAV or MP3 file")

// decodeAudio turns a <Play> file into 8 kHz mono PCM: WAV (16-bit PCM,
// mu-law, A-law, any rate) or MP3 (MPEG-1/2 Layer III, mixed down to
// mono), the formats Twilio's <Play> takes for telephony.
func decodeAudio(b []byte) ([]int16, error) {
	var pcm []int16
	var rate int
	var err error
	switch {
	case bytes.HasPrefix(b, []byte("RIFF")):
		pcm, rate, err = wav.Decode(bytes.NewReader(b))
	case isMP3(b):
		pcm, rate, err = decodeMP3(b)
	default:
		return nil, errFormat
	}
	if err != nil {
		return nil, err
	}
	if rate != agent.SampleRate {
		pcm = wav.Resample(pcm, rate, agent.SampleRate)
	}
	return pcm, nil
}

// isMP3 reports an ID3v2 tag or an MPEG audio frame sync at the start.
func isMP3(b []byte) bool {
	return bytes.HasPrefix(b, []byte("ID3")) || len(b) >= 2 && b[0] == 0xFF && b[1]&0xE0 == 0xE0
}

// decodeMP3 decodes to 16-bit samples; go-mp3 always gives interleaved
// stereo, which is averaged to mono.
func decodeMP3(b []byte) ([]int16, int, error) {
	d, err := mp3.NewDecoder(bytes.NewReader(b))
	if err != nil {
		return nil, 0, fmt.Errorf("mp3: %w", err)
	}
	raw, err := io.ReadAll(io.LimitReader(d, maxPlayDecoded))
	if err != nil {
		return nil, 0, fmt.Errorf("mp3: %w", err)
	}
	pcm := make([]int16, len(raw)/4)
	for i := range pcm {
		l := int32(int16(binary.LittleEndian.Uint16(raw[4*i:])))
		r := int32(int16(binary.LittleEndian.Uint16(raw[4*i+2:])))
		pcm[i] = int16((l + r) / 2)
	}
	return pcm, d.SampleRate(), nil
}
