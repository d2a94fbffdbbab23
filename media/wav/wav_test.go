package wav

import (
	"encoding/binary"
)

// chunk returns a RIFF chunk with the given id and body, padded to an
// even length.
func chunk(id string, body []byte) []byte {
	b := []byte(id)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(body)))
	b = append(b, body...)
	if len(body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// riff wraps chunks in a RIFF/WAVE header.
func riff(chunks ...[]byte) []byte {
	var body []byte
	for _, c := range chunks {
		body = append(body, c...)
	}
	b := []byte("RIFF")
	b = binary.LittleEndian.AppendUint32(b, uint32(4+len(body)))
	b = append(b, "WAVE"...)
	return append(b, body...)
}

// fmtBody returns a 16-byte fmt chunk body.
func fmtBody(tag, channels, rate, bits int) []byte {
	le := binary.LittleEndian
	b := le.AppendUint16(nil, uint16(tag))
	b = le.AppendUint16(b, uint16(channels))
	b = le.AppendUint32(b, uint32(rate))
	b = le.AppendUint32(b, uint32(rate*channels*bits/8))
	b = le.AppendUint16(b, uint16(channels*bits/8))
	return le.AppendUint16(b, uint16(bits))
}

// extensibleBody returns a 40-byte WAVE_FORMAT_EXTENSIBLE fmt body whose
// sub-format GUID carries tag.
func extensibleBody(tag, channels, rate, bits int) []byte {
	le := binary.LittleEndian
	b := fmtBody(tagExtensible, channels, rate, bits)
	b = le.AppendUint16(b, 22)           // cbSize
	b = le.AppendUint16(b, uint16(bits)) // valid bits
	b = le.AppendUint32(b, 0)            // channel mask
	b = le.AppendUint16(b, uint16(tag))  // GUID starts with the tag
	return append(b, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71)
}

// pcmBytes encodes samples as little-endian 16-bit.
func pcmBytes(s ...int16) []byte {
	var b []byte
	for _, v := range s {
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	return b
}
