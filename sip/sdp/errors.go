package sdp

import (
	"errors"
	"fmt"
	"strconv"
)

// Sentinel errors, matched with errors.Is. Negotiate and ParseAnswer return
// them wrapped, with detail, in an *Error that carries the SIP response.
var (
	// ErrMalformed: the body is not a session description we can read
	// (RFC 8866 section 5 syntax, or a required line is missing).
	ErrMalformed = errors.New("sdp: malformed session description")
	// ErrUnknownLine: a line type letter RFC 8866 does not define; RFC 8866
	// section 5 says such a description must be ignored as a whole.
	ErrUnknownLine = errors.New("sdp: unknown line type")
	// ErrNoAudio: no audio stream with a non-zero port.
	ErrNoAudio = errors.New("sdp: no audio stream")
	// ErrTransport: audio is offered only over a transport we do not speak
	// (SRTP profiles, DTLS); we do RTP/AVP and RTP/AVPF.
	ErrTransport = errors.New("sdp: unsupported transport protocol")
	// ErrAddress: the connection address is not one we can send RTP to
	// (a host name, multicast, or the other IP family than ours).
	ErrAddress = errors.New("sdp: unusable connection address")
	// ErrNoCodec: no offered audio format is one of ours.
	ErrNoCodec = errors.New("sdp: no common codec")
)

// Error is a failed negotiation together with the SIP response that reports
// it. Code and Warning are meant to be copied into the response unchanged.
type Error struct {
	// Code is the SIP status code to respond with: 400 Bad Request for a
	// body we cannot parse, 488 Not Acceptable Here otherwise.
	Code int
	// Warning is the complete Warning header field value of RFC 3261
	// section 20.43, such as `305 sipagent "Incompatible media format"`.
	Warning string
	// Err wraps one of the sentinel errors with the values involved.
	Err error
}

func (e *Error) Error() string { return e.Err.Error() }

// Unwrap lets errors.Is find the sentinel.
func (e *Error) Unwrap() error { return e.Err }

// warnAgent is the warn-agent of our Warning header values (RFC 3261
// section 20.43 allows a pseudonym in place of a host).
const warnAgent = "sipagent"

// response maps a sentinel to the SIP status code and the RFC 3261 section
// 20.43 warn-code and warn-text that report it.
//
// An unparseable body gets 400 Bad Request rather than 488: RFC 3261
// section 21.4.1 reserves 400 for a request that "could not be understood
// due to malformed syntax", while 488 (section 21.4.26, "same meaning as
// 606") says the session was understood but is not acceptable here and
// "may succeed elsewhere" - a forking proxy would try other branches with
// the same broken body. The 399 warning carries the reason in both cases.
func response(sentinel error) (code, warnCode int, warnText string) {
	switch sentinel {
	case ErrMalformed:
		return 400, 399, "Malformed session description"
	case ErrUnknownLine:
		return 488, 307, "Session description parameter not understood"
	case ErrNoAudio:
		return 488, 304, "Media type not available"
	case ErrTransport:
		return 488, 302, "Incompatible transport protocol"
	case ErrAddress:
		return 488, 301, "Incompatible network address formats"
	case ErrNoCodec:
		return 488, 305, "Incompatible media format"
	default:
		return 488, 399, "Miscellaneous warning"
	}
}

// fail returns an *Error for sentinel, with detail formatted from format
// and args.
func fail(sentinel error, format string, args ...any) *Error {
	code, warnCode, warnText := response(sentinel)
	return &Error{
		Code:    code,
		Warning: strconv.Itoa(warnCode) + " " + warnAgent + " " + strconv.Quote(warnText),
		Err:     fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...)),
	}
}
