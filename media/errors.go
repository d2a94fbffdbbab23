package media

import "errors"

// Errors returned by media. Callers compare with errors.Is: most are
// wrapped with the values involved.
var (
	// ErrClosed is returned by a Session's blocking methods once the
	// session has ended, by Close or by an RTP timeout.
	ErrClosed = errors.New("media: session closed")

	// ErrRTPTimeout is the reason a Session ended when no RTP arrived
	// from the peer for Config.RTPTimeout while receiving was expected.
	ErrRTPTimeout = errors.New("media: RTP timeout")

	// ErrNoDTMF is returned by SendDTMF when telephone-event was not
	// negotiated.
	ErrNoDTMF = errors.New("media: telephone-event not negotiated")

	// ErrInvalidDigit is returned for a rune that is not a DTMF key
	// ('0'-'9', '*', '#', 'A'-'D').
	ErrInvalidDigit = errors.New("media: not a DTMF digit")

	// ErrInvalidConfig is returned by NewSession and Update for a value
	// out of range; the wrapped message names the field.
	ErrInvalidConfig = errors.New("media: invalid configuration")

	// ErrInvalidRange is returned by NewPortPool for a bad port range.
	ErrInvalidRange = errors.New("media: invalid port range")

	// ErrNoPorts is returned by PortPool.Listen when every port of the
	// range is in use, in quarantine or taken by another process.
	ErrNoPorts = errors.New("media: no free RTP port")

	// ErrShortEvent is returned by ParseTelephoneEvent for a payload
	// shorter than the 4 bytes of one event.
	ErrShortEvent = errors.New("media: telephone-event payload too short")

	// ErrShortBuffer is returned by ReadFrame when frame cannot hold
	// FrameSamples samples.
	ErrShortBuffer = errors.New("media: frame buffer shorter than FrameSamples")
)

// Reasons a datagram is refused by the receive path. They are not wrapped
// so the hot path never allocates.
var (
	errNotRTP      = errors.New("media: not an RTP version 2 packet")
	errShortRTP    = errors.New("media: RTP packet truncated")
	errRTCP        = errors.New("media: RTCP packet on the RTP port")
	errBadPadding  = errors.New("media: RTP padding longer than the payload")
	errBadHeaderEx = errors.New("media: RTP header extension overruns the packet")
)
