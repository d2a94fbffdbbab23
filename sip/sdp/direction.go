package sdp

import (
	psdp "github.com/pion/sdp/v3"
)

// Direction is a stream's direction attribute (RFC 8866 section 6.7,
// RFC 3264 section 5.1), seen from the side that writes it.
type Direction string

// The four directions. An offer or answer without one means SendRecv.
const (
	SendRecv Direction = "sendrecv"
	SendOnly Direction = "sendonly"
	RecvOnly Direction = "recvonly"
	Inactive Direction = "inactive"
)

// Valid reports whether d is one of the four directions.
func (d Direction) Valid() bool {
	switch d {
	case SendRecv, SendOnly, RecvOnly, Inactive:
		return true
	}
	return false
}

// Sends reports whether the side with direction d sends media.
func (d Direction) Sends() bool { return d == SendRecv || d == SendOnly }

// Receives reports whether the side with direction d receives media.
func (d Direction) Receives() bool { return d == SendRecv || d == RecvOnly }

// Reverse returns the direction the other side takes: the direction of an
// answer to an offer with direction d (RFC 3264 section 6.1), and our
// direction when the peer's answer has direction d. An invalid d counts as
// SendRecv, the default.
func (d Direction) Reverse() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	case Inactive:
		return Inactive
	}
	return SendRecv
}

// withoutSend drops sending from d. It is what remains of our direction when
// the peer's connection address is unspecified (0.0.0.0 or ::): the RFC 2543
// way of putting a call on hold, which RFC 3264 section 8.4 no longer
// recommends but peers still send, and which RFC 3264 also allows in an
// offer whose address is not known yet. Either way there is nowhere to send.
func (d Direction) withoutSend() Direction {
	switch d {
	case SendRecv, RecvOnly:
		return RecvOnly
	}
	return Inactive
}

// directionOf returns the direction attribute of a stream: the media-level
// one if present, else the session-level one, else SendRecv (RFC 3264
// section 5.1).
func directionOf(session, media []psdp.Attribute) Direction {
	if d, ok := findDirection(media); ok {
		return d
	}
	if d, ok := findDirection(session); ok {
		return d
	}
	return SendRecv
}

func findDirection(attrs []psdp.Attribute) (Direction, bool) {
	for _, a := range attrs {
		if d := Direction(a.Key); a.Value == "" && d.Valid() {
			return d, true
		}
	}
	return "", false
}
