package stream

import "errors"

// Errors Run and Decode return. Run wraps them with the details (the URL,
// the WebSocket error); test with errors.Is.
var (
	// ErrDial means the WebSocket could not be opened: nothing listening,
	// the handshake refused, or DialTimeout passed.
	ErrDial = errors.New("stream: cannot open the WebSocket")
	// ErrSocket means an open WebSocket failed: a read or write error, a
	// write that timed out because the agent stopped reading, or a close
	// with an error status.
	ErrSocket = errors.New("stream: WebSocket failed")

	// ErrMalformed means a message from the agent is not a JSON object.
	ErrMalformed = errors.New("stream: malformed message")
	// ErrNoEvent means a message has no "event" field.
	ErrNoEvent = errors.New("stream: message has no event")
	// ErrMissingField means a media or mark message lacks its media or
	// mark object.
	ErrMissingField = errors.New("stream: message lacks a field")
	// ErrBadPayload means a media payload is not base64.
	ErrBadPayload = errors.New("stream: media payload is not base64")
)
