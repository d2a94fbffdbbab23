package media

import (
	"strings"

	"github.com/zaf/g711"
)

// SampleRate is the audio sample rate of every codec media supports, in Hz.
const SampleRate = 8000

// FrameSamples is the number of samples in one 20 ms frame.
const FrameSamples = SampleRate / 50

// Codec is an RTP audio payload format.
type Codec struct {
	Name        string // encoding name as in SDP rtpmap, e.g. "PCMU"
	PayloadType uint8  // static payload type (RFC 3551 section 6)
	ClockRate   uint32 // RTP clock rate in Hz
	// silence is the encoded value of a zero sample.
	silence byte
	encode  func(int16) uint8
	decode  func(uint8) int16
}

// The G.711 codecs (ITU-T G.711, RFC 3551 section 4.5.14).
var (
	PCMU = Codec{Name: "PCMU", PayloadType: 0, ClockRate: SampleRate, silence: 0xFF,
		encode: g711.EncodeUlawFrame, decode: g711.DecodeUlawFrame}
	PCMA = Codec{Name: "PCMA", PayloadType: 8, ClockRate: SampleRate, silence: 0xD5,
		encode: g711.EncodeAlawFrame, decode: g711.DecodeAlawFrame}
)

// Codecs lists the codecs media can encode and decode.
var Codecs = []Codec{PCMU, PCMA}

// CodecByName returns the codec with the given encoding name, compared
// without regard to case.
func CodecByName(name string) (Codec, bool) {
	for _, c := range Codecs {
		if strings.EqualFold(c.Name, name) {
			return c, true
		}
	}
	return Codec{}, false
}

// Valid reports whether c is one of the supported codecs.
func (c Codec) Valid() bool { return c.encode != nil }

// Decode decodes payload into dst and returns the number of samples
// written: min(len(payload), len(dst)). It allocates nothing.
func (c Codec) Decode(dst []int16, payload []byte) int {
	n := min(len(payload), len(dst))
	dec := c.decode
	for i := 0; i < n; i++ {
		dst[i] = dec(payload[i])
	}
	return n
}

// Encode encodes pcm into dst and returns the number of bytes written:
// min(len(pcm), len(dst)). It allocates nothing.
func (c Codec) Encode(dst []byte, pcm []int16) int {
	n := min(len(pcm), len(dst))
	enc := c.encode
	for i := 0; i < n; i++ {
		dst[i] = enc(pcm[i])
	}
	return n
}

// Silence fills dst with the encoding of silence.
func (c Codec) Silence(dst []byte) {
	for i := range dst {
		dst[i] = c.silence
	}
}

// String returns the encoding name.
func (c Codec) String() string { return c.Name }
