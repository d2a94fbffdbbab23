package wav

import (
	"encoding/binary"
	"fmt"
)

// WAVE format tags (RFC 2361, Appendix A).
const (
	tagPCM        = 0x0001
	tagALaw       = 0x0006
	tagMuLaw      = 0x0007
	tagExtensible = 0xFFFE
)

// Limits on what Decode accepts.
const (
	// MinRate and MaxRate bound the sample rates Decode accepts, in Hz.
	MinRate = 1000
	MaxRate = 384000
	// MaxFrames is the most sample frames Decode reads: ten minutes at
	// 48 kHz. Prompts are seconds long; anything near this is a mistake.
	MaxFrames = 10 * 60 * 48000
	// maxFmtSize bounds the fmt chunk; the largest real one
	// (WAVE_FORMAT_EXTENSIBLE) is 40 bytes.
	maxFmtSize = 1024
)

// format is what Decode needs from the fmt chunk.
type format struct {
	tag      uint16 // tagPCM, tagALaw or tagMuLaw (extensible resolved)
	channels int
	rate     int
	bits     int
}

// blockAlign returns the size in bytes of one sample frame.
func (f format) blockAlign() int { return f.channels * f.bits / 8 }

// parseFormat validates a fmt chunk body.
func parseFormat(b []byte) (format, error) {
	if len(b) < 16 {
		return format{}, fmt.Errorf("%w: fmt chunk is %d bytes, want at least 16", ErrFormat, len(b))
	}
	le := binary.LittleEndian
	f := format{
		tag:      le.Uint16(b[0:]),
		channels: int(le.Uint16(b[2:])),
		rate:     int(le.Uint32(b[4:])),
		bits:     int(le.Uint16(b[14:])),
	}
	align := int(le.Uint16(b[12:]))
	if f.tag == tagExtensible {
		// WAVEFORMATEXTENSIBLE: cbSize(2) validBits(2) channelMask(4)
		// then a GUID whose first two bytes are the format tag.
		if len(b) < 40 {
			return format{}, fmt.Errorf("%w: extensible fmt chunk is %d bytes, want 40", ErrFormat, len(b))
		}
		f.tag = le.Uint16(b[24:])
	}
	switch f.tag {
	case tagPCM:
		if f.bits != 16 {
			return format{}, fmt.Errorf("%w: %d-bit PCM (only 16-bit PCM is decoded)", ErrFormat, f.bits)
		}
	case tagALaw, tagMuLaw:
		if f.bits != 8 {
			return format{}, fmt.Errorf("%w: %d-bit G.711 (want 8-bit)", ErrFormat, f.bits)
		}
	default:
		return format{}, fmt.Errorf("%w: format tag %#04x (want PCM 1, A-law 6 or mu-law 7)", ErrFormat, f.tag)
	}
	if f.channels != 1 && f.channels != 2 {
		return format{}, fmt.Errorf("%w: %d channels (want 1 or 2)", ErrFormat, f.channels)
	}
	if f.rate < MinRate || f.rate > MaxRate {
		return format{}, fmt.Errorf("%w: sample rate %d Hz (want %d to %d)", ErrFormat, f.rate, MinRate, MaxRate)
	}
	if align != f.blockAlign() {
		return format{}, fmt.Errorf("%w: block align %d, want %d for %d channels of %d bits",
			ErrFormat, align, f.blockAlign(), f.channels, f.bits)
	}
	return f, nil
}
