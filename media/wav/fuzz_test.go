package wav

import (
	"bytes"
	"slices"
	"testing"
)

// FuzzDecode checks that Decode never panics and that whatever it accepts
// survives an Encode/Decode round trip unchanged.
func FuzzDecode(f *testing.F) {
	f.Add(riff(chunk("fmt ", fmtBody(tagPCM, 1, 8000, 16)), chunk("data", pcmBytes(1, -2, 3))))
	f.Add(riff(chunk("fmt ", fmtBody(tagPCM, 2, 22050, 16)), chunk("data", pcmBytes(1, -2, 3, 4))))
	f.Add(riff(chunk("fmt ", fmtBody(tagMuLaw, 1, 8000, 8)), chunk("data", []byte{0, 1, 2})))
	f.Add(riff(chunk("fmt ", fmtBody(tagALaw, 2, 8000, 8)), chunk("data", []byte{0, 1})))
	f.Add(riff(chunk("fmt ", extensibleBody(tagPCM, 1, 48000, 16)), chunk("LIST", []byte("x")), chunk("data", pcmBytes(5))))
	f.Add(append(riff(chunk("fmt ", fmtBody(tagPCM, 1, 22050, 16))), "data\x00\xf0\xff\x7f\x01\x00"...))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pcm, rate, err := Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		if rate < MinRate || rate > MaxRate {
			t.Fatalf("accepted rate %d", rate)
		}
		if len(pcm) > MaxFrames {
			t.Fatalf("accepted %d frames", len(pcm))
		}
		var buf bytes.Buffer
		if err := Encode(&buf, pcm, rate); err != nil {
			t.Fatalf("Encode: %v", err)
		}
		again, rate2, err := Decode(&buf)
		if err != nil || rate2 != rate || !slices.Equal(again, pcm) {
			t.Fatalf("round trip: %d samples at %d Hz, err %v; want %d samples at %d Hz", len(again), rate2, err, len(pcm), rate)
		}
	})
}
