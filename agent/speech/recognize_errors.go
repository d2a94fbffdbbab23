package speech

import "errors"

// Errors returned by this package's recognizers and Listen.
var (
	// ErrPocketsphinxNotFound means the pocketsphinx_continuous program
	// is not installed.
	ErrPocketsphinxNotFound = errors.New("speech: pocketsphinx_continuous not found in PATH (apt-get install pocketsphinx)")
	// ErrPocketsphinxModelNotFound means the acoustic model, language
	// model or dictionary is missing.
	ErrPocketsphinxModelNotFound = errors.New("speech: pocketsphinx model not found (apt-get install pocketsphinx-en-us)")
	// ErrLanguageUnsupported means a stream asked for a language the
	// recognizer has no model for.
	ErrLanguageUnsupported = errors.New("speech: language not supported")
	// ErrStreamClosed is returned by Write on a stream that has ended.
	ErrStreamClosed = errors.New("speech: recognition stream closed")
	// ErrStreamEnded is returned by Listen when the recognition stream
	// ended before it had a result.
	ErrStreamEnded = errors.New("speech: recognition stream ended")
)
