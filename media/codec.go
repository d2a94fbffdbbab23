package media

import (
	"strings"

	"github.com/zaf/g711"
)

// SampleRate is the audio sample rate of every codec media supports, in Hz.
const SampleRate = 8000

// FrameSamples is the number of samples in one 20 ms frame.
const FrameSamples = SampleRate / 50

// Codec is an RTP audio payload format. Codec values are comparable.
type Codec struct {
	Name        string // encoding name as in SDP rtpmap, e.g. "PCMU"
	PayloadType uint8  // static payload type (RFC 3551 section 6)
	ClockRate   uint32 // RTP clock rate in Hz
}

// The G.711 codecs (ITU-T G.711, RFC 3551 section 4.5.14).
var (
	PCMU = Codec{Name: "PCMU", PayloadType: 0, ClockRate: SampleRate}
	PCMA = Codec{Name: "PCMA", PayloadType: 8, ClockRate: SampleRate}
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
func (c Codec) Valid() bool { return c == PCMU || c == PCMA }

// Decode decodes payload into dst and returns the number of samples
// written: min(len(payload), len(dst)). It allocates nothing.
func (c Codec) Decode(dst []int16, payload []byte) int {
	n := min(len(payload), len(dst))
	payload, dst = payload[:n], dst[:n]
	if c.PayloadType == PCMA.PayloadType {
		for i, b := range payload {
			dst[i] = g711.DecodeAlawFrame(b)
		}
		return n
	}
	for i, b := range payload {
		dst[i] = g711.DecodeUlawFrame(b)
	}
	return n
}

// Encode encodes pcm into dst and returns the number of bytes written:
// min(len(pcm), len(dst)). It allocates nothing.
func (c Codec) Encode(dst []byte, pcm []int16) int {
	n := min(len(pcm), len(dst))
	pcm, dst = pcm[:n], dst[:n]
	if c.PayloadType == PCMA.PayloadType {
		for i, s := range pcm {
			dst[i] = g711.EncodeAlawFrame(s)
		}
		return n
	}
	for i, s := range pcm {
		dst[i] = g711.EncodeUlawFrame(s)
	}
	return n
}

// SilenceByte returns the encoding of a zero sample.
func (c Codec) SilenceByte() byte {
	if c.PayloadType == PCMA.PayloadType {
		return 0xD5
	}
	return 0xFF
}

// String returns the encoding name.
func (c Codec) String() string { return c.Name }
