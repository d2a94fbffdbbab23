// Package audiofile decodes the audio files agents are handed to play
// (TwiML <Play> URLs, Voiceflow's TTS audio) into the 8 kHz mono 16-bit
// PCM calls carry: WAV and MP3.
package audiofile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/hajimehoshi/go-mp3"
	"github.com/sipagent/sipagent/media/wav"
)

// ErrFormat is a file that is neither WAV nor MP3.
var ErrFormat = errors.New("audiofile: not a WAV or MP3 file")

// MaxDecoded bounds the decoded PCM of one MP3, in bytes of 44.1 kHz
// stereo (about ten minutes): a small file cannot make sipagent hold
// gigabytes.
const MaxDecoded = 200 << 20

// Decode turns a file into 8 kHz mono PCM: WAV (16-bit PCM, mu-law,
// A-law, any rate) or MP3 (MPEG-1/2 Layer III, mixed down to mono), the
// formats Twilio's <Play> takes for telephony.
func Decode(b []byte) ([]int16, error) {
	var pcm []int16
	var rate int
	var err error
	switch {
	case bytes.HasPrefix(b, []byte("RIFF")):
		pcm, rate, err = wav.Decode(bytes.NewReader(b))
	case isMP3(b):
		pcm, rate, err = decodeMP3(b)
	default:
		return nil, ErrFormat
	}
	if err != nil {
		return nil, err
	}
	if rate != wav.TelephoneRate {
		pcm = wav.Resample(pcm, rate, wav.TelephoneRate)
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
	raw, err := io.ReadAll(io.LimitReader(d, MaxDecoded))
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
