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
// The encoding is chosen by Name; PayloadType is what goes on the wire,
// the static type (RFC 3551 s.6) unless the peer mapped the codec to a
// dynamic one with a=rtpmap (see WithPayloadType).
type Codec struct {
	Name        string // encoding name as in SDP rtpmap, e.g. "PCMU"
	PayloadType uint8  // RTP payload type on the wire
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

// Valid reports whether c is one of the supported codecs, whatever its
// payload type.
func (c Codec) Valid() bool { return c.isAlaw() || c.Name == PCMU.Name && c.ClockRate == SampleRate }

// WithPayloadType returns c carried under payload type pt.
func (c Codec) WithPayloadType(pt uint8) Codec {
	c.PayloadType = pt
	return c
}

// isAlaw reports whether c is A-law; every other valid codec is mu-law.
// Dispatch is by name so that a dynamic payload type decodes right.
func (c Codec) isAlaw() bool { return c.Name == PCMA.Name && c.ClockRate == SampleRate }

// Decode decodes payload into dst and returns the number of samples
// written: min(len(payload), len(dst)). It allocates nothing.
func (c Codec) Decode(dst []int16, payload []byte) int {
	n := min(len(payload), len(dst))
	payload, dst = payload[:n], dst[:n]
	if c.isAlaw() {
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
	if c.isAlaw() {
		for i, s := range pcm {
			dst[i] = alawEncode[uint16(s)>>alawDrop]
		}
		return n
	}
	for i, s := range pcm {
		dst[i] = ulawEncode[uint16(s)>>ulawDrop]
	}
	return n
}

// G.711 codes a sample from its top bits only: mu-law from the top 14,
// A-law from the top 12. So encoding is a lookup in a table of every code,
// filled once from the g711 package's encoders: 20 KB, read-only after
// package initialisation, and three to four times faster than computing
// each code.
const (
	ulawDrop = 2 // low bits mu-law ignores
	alawDrop = 4 // low bits A-law ignores
)

var (
	ulawEncode = encodeTable(ulawDrop, g711.EncodeUlawFrame)
	alawEncode = encodeTable(alawDrop, g711.EncodeAlawFrame)
)

// encodeTable returns encode(s) for every s, indexed by uint16(s)>>drop.
func encodeTable(drop uint, encode func(int16) uint8) []byte {
	t := make([]byte, 1<<(16-drop))
	for i := range t {
		t[i] = encode(int16(uint16(i) << drop))
	}
	return t
}

// G.711 transcoding, for a relay between a PCMU leg and a PCMA leg: each
// code of one law decodes to one sample, so the code of the other law it
// becomes is fixed too. Two 256-entry tables, filled once from the g711
// decoders and the encode tables above, turn decode-then-encode into one
// lookup per byte.
var (
	ulawToAlaw = transcodeTable(g711.DecodeUlawFrame, alawEncode, alawDrop)
	alawToUlaw = transcodeTable(g711.DecodeAlawFrame, ulawEncode, ulawDrop)
)

// transcodeTable returns, for every code b of one law, the code encode
// gives the sample decode(b).
func transcodeTable(decode func(uint8) int16, encode []byte, drop uint) *[256]byte {
	var t [256]byte
	for i := range t {
		t[i] = encode[uint16(decode(uint8(i)))>>drop]
	}
	return &t
}

// transcode writes payload, coded in from, into dst coded in to, and
// returns the number of bytes written: min(len(payload), len(dst)).
// Codecs of the same encoding copy; PCMU and PCMA convert byte by byte
// as Decode with from then Encode with to would. It allocates nothing.
func transcode(dst, payload []byte, from, to Codec) int {
	if from.isAlaw() == to.isAlaw() {
		return copy(dst, payload)
	}
	t := ulawToAlaw
	if from.isAlaw() {
		t = alawToUlaw
	}
	n := min(len(payload), len(dst))
	for i, b := range payload[:n] {
		dst[i] = t[b]
	}
	return n
}

// SilenceByte returns the encoding of a zero sample.
func (c Codec) SilenceByte() byte {
	if c.isAlaw() {
		return 0xD5
	}
	return 0xFF
}

// String returns the encoding name.
func (c Codec) String() string { return c.Name }
