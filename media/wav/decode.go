package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/zaf/g711"
)

// unknownSize is the smallest data chunk size taken to mean "until the end
// of the stream". Writers that stream to a pipe, such as espeak-ng
// --stdout, cannot seek back to fill in sizes and write a placeholder near
// 2^31 or 2^32 instead.
const unknownSize = 0x7FFF0000

// Decode reads a WAV stream and returns its audio as 16-bit mono PCM with
// its sample rate. Stereo is mixed down by averaging the channels; G.711 is
// expanded to 16-bit. Decode reads up to the end of the data chunk and
// ignores anything after it.
func Decode(r io.Reader) (pcm []int16, rate int, err error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrNotWAV, readErr(err))
	}
	// The RIFF size (hdr[4:8]) is not checked: streaming writers put a
	// placeholder there, and the data chunk size says all that matters.
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, 0, fmt.Errorf("%w: header %q", ErrNotWAV, hdr[:])
	}
	var f *format
	for {
		id, size, err := readChunkHeader(r)
		if err != nil {
			return nil, 0, err
		}
		switch id {
		case "fmt ":
			if f != nil {
				return nil, 0, fmt.Errorf("%w: second fmt chunk", ErrFormat)
			}
			if size > maxFmtSize {
				return nil, 0, fmt.Errorf("%w: fmt chunk is %d bytes, want at most %d", ErrFormat, size, maxFmtSize)
			}
			body := make([]byte, size+size&1)
			if _, err := io.ReadFull(r, body); err != nil {
				return nil, 0, fmt.Errorf("%w: in fmt chunk: %v", ErrTruncated, readErr(err))
			}
			parsed, err := parseFormat(body[:size])
			if err != nil {
				return nil, 0, err
			}
			f = &parsed
		case "data":
			if f == nil {
				return nil, 0, fmt.Errorf("%w: data chunk before fmt chunk", ErrFormat)
			}
			pcm, err := readData(r, *f, size)
			if err != nil {
				return nil, 0, err
			}
			return pcm, f.rate, nil
		default:
			// Chunks are padded to an even size (RIFF, 1991).
			skip := int64(size) + int64(size&1)
			if n, err := io.CopyN(io.Discard, r, skip); err != nil {
				return nil, 0, fmt.Errorf("%w: in %q chunk after %d of %d bytes: %v", ErrTruncated, id, n, skip, readErr(err))
			}
		}
	}
}

// readChunkHeader reads a chunk's four-byte id and its size.
func readChunkHeader(r io.Reader) (id string, size uint32, err error) {
	var b [8]byte
	n, err := io.ReadFull(r, b[:])
	switch {
	case n == 0 && errors.Is(err, io.EOF):
		return "", 0, ErrNoData
	case err != nil:
		return "", 0, fmt.Errorf("%w: in chunk header: %v", ErrTruncated, readErr(err))
	}
	return string(b[:4]), binary.LittleEndian.Uint32(b[4:]), nil
}

// readData reads the body of a data chunk of the given declared size.
func readData(r io.Reader, f format, size uint32) ([]int16, error) {
	align := int64(f.blockAlign())
	limit := int64(MaxFrames) * align
	unknown := size >= unknownSize
	want := int64(size)
	if unknown {
		want = limit + 1 // read to the end, noticing one byte too many
	} else {
		if want > limit {
			return nil, fmt.Errorf("%w: data chunk holds %d frames, limit %d", ErrTooLong, want/align, MaxFrames)
		}
		if want%align != 0 {
			return nil, fmt.Errorf("%w: data chunk size %d is not a multiple of the %d-byte frame", ErrFormat, want, align)
		}
	}
	lr := io.LimitReader(r, want)
	// The buffer size is a multiple of every frame size (1, 2 and 4).
	buf := make([]byte, 32*1024)
	// Size fields are not trusted for allocation; grow as data arrives.
	pcm := make([]int16, 0, min(want/align, 1<<16))
	var total int64
	for {
		n, err := io.ReadFull(lr, buf)
		total += int64(n)
		whole := n - n%int(align)
		pcm = appendFrames(pcm, f, buf[:whole])
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("wav: reading data: %w", err)
		}
	}
	switch {
	case unknown && total > limit:
		return nil, fmt.Errorf("%w: more than %d frames", ErrTooLong, MaxFrames)
	case !unknown && total < want:
		return nil, fmt.Errorf("%w: data chunk declares %d bytes, stream holds %d", ErrTruncated, want, total)
	case total%align != 0:
		return nil, fmt.Errorf("%w: data ends inside a %d-byte frame", ErrTruncated, align)
	}
	return pcm, nil
}

// appendFrames decodes whole sample frames from b and appends them to pcm
// as mono samples.
func appendFrames(pcm []int16, f format, b []byte) []int16 {
	step := f.blockAlign()
	for i := 0; i+step <= len(b); i += step {
		s := sample(f.tag, b[i:])
		if f.channels == 2 {
			s2 := sample(f.tag, b[i+step/2:])
			s = int16((int32(s) + int32(s2)) >> 1)
		}
		pcm = append(pcm, s)
	}
	return pcm
}

// sample decodes the one-channel sample at the start of b.
func sample(tag uint16, b []byte) int16 {
	switch tag {
	case tagALaw:
		return g711.DecodeAlawFrame(b[0])
	case tagMuLaw:
		return g711.DecodeUlawFrame(b[0])
	default:
		return int16(binary.LittleEndian.Uint16(b))
	}
}

// readErr names a short read in words; other errors pass through.
func readErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("unexpected end of stream")
	}
	return err
}
