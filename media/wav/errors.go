package wav

import "errors"

// Errors returned by Decode, wrapped with the values involved.
var (
	// ErrNotWAV means the stream does not start with a RIFF/WAVE header.
	ErrNotWAV = errors.New("wav: not a RIFF/WAVE file")
	// ErrFormat means the fmt chunk describes audio this package does
	// not decode, or is malformed.
	ErrFormat = errors.New("wav: unsupported format")
	// ErrTruncated means the stream ended inside a chunk.
	ErrTruncated = errors.New("wav: truncated")
	// ErrTooLong means the audio is longer than MaxFrames.
	ErrTooLong = errors.New("wav: audio too long")
	// ErrNoData means the file has no data chunk.
	ErrNoData = errors.New("wav: no data chunk")
)
