package wav

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// Encode writes pcm as a 16-bit mono PCM WAV stream at the given rate.
func Encode(w io.Writer, pcm []int16, rate int) error {
	if rate < MinRate || rate > MaxRate {
		return fmt.Errorf("wav: encode: sample rate %d Hz (want %d to %d)", rate, MinRate, MaxRate)
	}
	dataSize := uint64(len(pcm)) * 2
	if dataSize > math.MaxUint32-36 {
		return fmt.Errorf("wav: encode: %d samples do not fit in a WAV file", len(pcm))
	}
	le := binary.LittleEndian
	hdr := make([]byte, 44, 44+dataSize)
	copy(hdr[0:], "RIFF")
	le.PutUint32(hdr[4:], uint32(36+dataSize))
	copy(hdr[8:], "WAVEfmt ")
	le.PutUint32(hdr[16:], 16)
	le.PutUint16(hdr[20:], tagPCM)
	le.PutUint16(hdr[22:], 1)
	le.PutUint32(hdr[24:], uint32(rate))
	le.PutUint32(hdr[28:], uint32(rate*2))
	le.PutUint16(hdr[32:], 2)
	le.PutUint16(hdr[34:], 16)
	copy(hdr[36:], "data")
	le.PutUint32(hdr[40:], uint32(dataSize))
	out := hdr
	for _, s := range pcm {
		out = le.AppendUint16(out, uint16(s))
	}
	if _, err := w.Write(out); err != nil {
		return fmt.Errorf("wav: encode: %w", err)
	}
	return nil
}
