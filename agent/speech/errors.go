package speech

import "errors"

// Errors returned by this package's synthesizers.
var (
	// ErrEspeakNotFound means the espeak-ng program is not installed.
	ErrEspeakNotFound = errors.New("speech: espeak-ng not found in PATH (apt-get install espeak-ng)")
	// ErrEmptyText means there was nothing to say.
	ErrEmptyText = errors.New("speech: empty text")
	// ErrTextTooLong means the text exceeds MaxTextBytes.
	ErrTextTooLong = errors.New("speech: text too long")
)
