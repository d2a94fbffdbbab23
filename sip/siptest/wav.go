package siptest

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"

	"github.com/sipagent/sipagent/media"
)

// WriteUlawWAV writes pcm as an 8 kHz mu-law WAV (format 7, with the
// fact chunk), the form sipp's rtp_stream plays.
func WriteUlawWAV(t testing.TB, path string, pcm []int16) {
	t.Helper()
	data := make([]byte, len(pcm))
	media.PCMU.Encode(data, pcm)
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString("RIFF")
	_ = binary.Write(&b, le, uint32(4+8+18+8+4+8+len(data)))
	b.WriteString("WAVEfmt ")
	_ = binary.Write(&b, le, uint32(18))
	_ = binary.Write(&b, le, []uint16{7, 1})       // mu-law, mono
	_ = binary.Write(&b, le, []uint32{8000, 8000}) // sample rate, byte rate
	_ = binary.Write(&b, le, []uint16{1, 8, 0})    // block align, bits, extension size
	b.WriteString("fact")
	_ = binary.Write(&b, le, []uint32{4, uint32(len(data))})
	b.WriteString("data")
	_ = binary.Write(&b, le, uint32(len(data)))
	b.Write(data)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
