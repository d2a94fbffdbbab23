package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/zaf/g711"
)

func TestDecode(t *testing.T) {
	streamed := riff(chunk("fmt ", fmtBody(tagPCM, 1, 22050, 16)))
	streamed = append(streamed, "data"...)
	streamed = binary.LittleEndian.AppendUint32(streamed, 0x7ffff000) // espeak-ng --stdout
	streamed = append(streamed, pcmBytes(1, 2, 3)...)

	tests := []struct {
		name string
		in   []byte
		want []int16
		rate int
	}{
		{
			name: "pcm mono",
			in:   riff(chunk("fmt ", fmtBody(tagPCM, 1, 8000, 16)), chunk("data", pcmBytes(0, 1, -1, 32767, -32768))),
			want: []int16{0, 1, -1, 32767, -32768},
			rate: 8000,
		},
		{
			name: "pcm stereo mixed down",
			in:   riff(chunk("fmt ", fmtBody(tagPCM, 2, 44100, 16)), chunk("data", pcmBytes(100, 300, -32768, -32768, 32767, 32767, 5, -6))),
			want: []int16{200, -32768, 32767, -1},
			rate: 44100,
		},
		{
			name: "mu-law",
			in:   riff(chunk("fmt ", fmtBody(tagMuLaw, 1, 8000, 8)), chunk("data", []byte{0xFF, 0x00, 0x80})),
			want: []int16{g711.DecodeUlawFrame(0xFF), g711.DecodeUlawFrame(0x00), g711.DecodeUlawFrame(0x80)},
			rate: 8000,
		},
		{
			name: "a-law odd length padded",
			in:   riff(chunk("fmt ", fmtBody(tagALaw, 1, 8000, 8)), chunk("data", []byte{0xD5, 0x2A, 0xAA})),
			want: []int16{g711.DecodeAlawFrame(0xD5), g711.DecodeAlawFrame(0x2A), g711.DecodeAlawFrame(0xAA)},
			rate: 8000,
		},
		{
			name: "extensible pcm",
			in:   riff(chunk("fmt ", extensibleBody(tagPCM, 1, 16000, 16)), chunk("data", pcmBytes(7, 8))),
			want: []int16{7, 8},
			rate: 16000,
		},
		{
			name: "unknown chunks skipped, odd sizes padded",
			in: riff(chunk("LIST", []byte("abc")), chunk("fmt ", fmtBody(tagPCM, 1, 8000, 16)),
				chunk("fact", []byte{1, 2, 3, 4, 5}), chunk("data", pcmBytes(9)), chunk("junk", []byte("after"))),
			want: []int16{9},
			rate: 8000,
		},
		{
			name: "streamed data size reads to end",
			in:   streamed,
			want: []int16{1, 2, 3},
			rate: 22050,
		},
		{
			name: "empty data",
			in:   riff(chunk("fmt ", fmtBody(tagPCM, 1, 8000, 16)), chunk("data", nil)),
			want: []int16{},
			rate: 8000,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pcm, rate, err := Decode(bytes.NewReader(tt.in))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if rate != tt.rate {
				t.Errorf("rate = %d, want %d", rate, tt.rate)
			}
			if !slices.Equal(pcm, tt.want) {
				t.Errorf("pcm = %v, want %v", pcm, tt.want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	okFmt := chunk("fmt ", fmtBody(tagPCM, 1, 8000, 16))
	hugeData := []byte("data")
	hugeData = binary.LittleEndian.AppendUint32(hugeData, uint32(MaxFrames*2+2))
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrNotWAV},
		{"not riff", []byte("RIFX\x00\x00\x00\x00WAVE"), ErrNotWAV},
		{"not wave", []byte("RIFF\x00\x00\x00\x00AVI "), ErrNotWAV},
		{"no chunks", riff(), ErrNoData},
		{"fmt only", riff(okFmt), ErrNoData},
		{"data before fmt", riff(chunk("data", pcmBytes(1)), okFmt), ErrFormat},
		{"two fmt", riff(okFmt, okFmt, chunk("data", nil)), ErrFormat},
		{"float", riff(chunk("fmt ", fmtBody(3, 1, 8000, 32)), chunk("data", nil)), ErrFormat},
		{"24-bit", riff(chunk("fmt ", fmtBody(tagPCM, 1, 8000, 24)), chunk("data", nil)), ErrFormat},
		{"8-bit pcm", riff(chunk("fmt ", fmtBody(tagPCM, 1, 8000, 8)), chunk("data", nil)), ErrFormat},
		{"16-bit mu-law", riff(chunk("fmt ", fmtBody(tagMuLaw, 1, 8000, 16)), chunk("data", nil)), ErrFormat},
		{"three channels", riff(chunk("fmt ", fmtBody(tagPCM, 3, 8000, 16)), chunk("data", nil)), ErrFormat},
		{"zero channels", riff(chunk("fmt ", fmtBody(tagPCM, 0, 8000, 16)), chunk("data", nil)), ErrFormat},
		{"rate zero", riff(chunk("fmt ", fmtBody(tagPCM, 1, 0, 16)), chunk("data", nil)), ErrFormat},
		{"rate too high", riff(chunk("fmt ", fmtBody(tagPCM, 1, 1_000_000, 16)), chunk("data", nil)), ErrFormat},
		{"short fmt", riff(chunk("fmt ", fmtBody(tagPCM, 1, 8000, 16)[:14]), chunk("data", nil)), ErrFormat},
		{"short extensible", riff(chunk("fmt ", fmtBody(tagExtensible, 1, 8000, 16)), chunk("data", nil)), ErrFormat},
		{"huge fmt", riff(chunk("fmt ", make([]byte, 2000))), ErrFormat},
		{"bad block align", riff(chunk("fmt ", func() []byte {
			b := fmtBody(tagPCM, 1, 8000, 16)
			b[12] = 4
			return b
		}()), chunk("data", nil)), ErrFormat},
		{"odd pcm data", riff(okFmt, chunk("data", []byte{1, 2, 3})), ErrFormat},
		{"truncated data", riff(okFmt, chunk("data", pcmBytes(1, 2, 3)))[:48], ErrTruncated},
		{"truncated chunk header", riff(okFmt)[:40], ErrTruncated},
		{"truncated unknown chunk", riff(okFmt, chunk("LIST", make([]byte, 100)))[:60], ErrTruncated},
		{"declared too long", append(riff(okFmt), hugeData...), ErrTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Decode(bytes.NewReader(tt.in))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode error = %v, want %v", err, tt.want)
			}
			t.Log(err)
		})
	}
}

// TestDecodeStreamTooLong feeds a streamed data chunk one frame longer
// than MaxFrames without building it in memory.
func TestDecodeStreamTooLong(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipped because it reads 58 MB")
	}
	hdr := riff(chunk("fmt ", fmtBody(tagMuLaw, 1, 8000, 8)))
	hdr = append(hdr, "data\xff\xff\xff\xff"...)
	r := &repeatReader{prefix: hdr, n: MaxFrames + 1}
	_, _, err := Decode(r)
	if !errors.Is(err, ErrTooLong) {
		t.Fatalf("Decode error = %v, want ErrTooLong", err)
	}
}

// repeatReader yields prefix then n bytes of 0xFF.
type repeatReader struct {
	prefix []byte
	n      int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if len(r.prefix) > 0 {
		n := copy(p, r.prefix)
		r.prefix = r.prefix[n:]
		return n, nil
	}
	if r.n == 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.n)
	for i := range n {
		p[i] = 0xFF
	}
	r.n -= n
	return n, nil
}
