package media

// Direction says whether we send and whether we expect to receive, seen
// from our side: the direction of our own stream in the SDP we send
// (RFC 3264 s.5.1, s.6.1). The zero value is SendRecv.
type Direction uint8

// The four directions.
const (
	SendRecv Direction = iota // send and receive
	SendOnly                  // send; the peer sends nothing (we hold it, or it is recvonly)
	RecvOnly                  // receive only: the peer holds us
	Inactive                  // neither
)

// Sends reports whether we send RTP in direction d.
func (d Direction) Sends() bool { return d == SendRecv || d == SendOnly }

// Receives reports whether we expect RTP in direction d.
func (d Direction) Receives() bool { return d == SendRecv || d == RecvOnly }

// Valid reports whether d is one of the four directions.
func (d Direction) Valid() bool { return d <= Inactive }

// String returns the SDP attribute name of d.
func (d Direction) String() string {
	switch d {
	case SendRecv:
		return "sendrecv"
	case SendOnly:
		return "sendonly"
	case RecvOnly:
		return "recvonly"
	case Inactive:
		return "inactive"
	}
	return "invalid"
}
