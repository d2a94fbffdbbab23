package audiofile

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/sipagent/sipagent/media/wav"
)

func TestDecodeWAV(t *testing.T) {
	pcm := []int16{0, 1000, -1000, 32767, -32768, 5}
	var b bytes.Buffer
	if err := wav.Encode(&b, pcm, 8000); err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b.Bytes())
	if err != nil || !slices.Equal(got, pcm) {
		t.Errorf("Decode = %v, %v; want %v", got, err, pcm)
	}
	// A 16 kHz file comes out at 8 kHz.
	b.Reset()
	if err := wav.Encode(&b, make([]int16, 1600), 16000); err != nil {
		t.Fatal(err)
	}
	if got, err := Decode(b.Bytes()); err != nil || len(got) != 800 {
		t.Errorf("16 kHz: %d samples, %v; want 800", len(got), err)
	}
}

func TestDecodeRefusesOthers(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("OggS...."), []byte("<html>"), []byte("RIFF\x00\x00")} {
		if _, err := Decode(b); err == nil {
			t.Errorf("Decode(%q) succeeded", b)
		} else if len(b) > 0 && b[0] != 'R' && !errors.Is(err, ErrFormat) {
			t.Errorf("Decode(%q) = %v, want ErrFormat", b, err)
		}
	}
}

// MP3 decoding is exercised with a real encoder's output in
// agent/twiml's TestPlayMP3; this target checks that no input makes the
// decoder panic or hang.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("RIFF\x24\x00\x00\x00WAVEfmt "))
	f.Add([]byte("ID3\x04\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte{0xFF, 0xFB, 0x90, 0x64, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = Decode(b)
	})
}
