package sip

import (
	"net"
	"slices"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"
)

// sipgo drops a datagram it cannot parse (transport_udp.go
// parseAndHandle) and reports it only to its log, so a peer whose request
// sipgo refuses retransmits it until its transaction times out, never
// told why. RFC 3261 s.18.3 and s.21.4.1 want a 400. The log record (see
// sipgoHandler) carries the datagram but not its source, so each UDP
// listener remembers its last datagram and where it came from: sipgo
// logs the failure on the listener's read goroutine, before the next
// read, and the listener whose last datagram it was answers.

// maxEchoedLine is the longest header line copied into a 400; a request
// with a longer Via, From, To, Call-ID or CSeq line gets no answer.
const maxEchoedLine = 1024

// recordingConn is a UDP listener that remembers the last datagram read.
// The copy costs tens of nanoseconds a datagram; sipgo's parse of the
// same datagram costs microseconds (BenchmarkRecordingConn).
type recordingConn struct {
	net.PacketConn

	mu   sync.Mutex
	last []byte
	src  net.Addr
}

func (c *recordingConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, src, err := c.PacketConn.ReadFrom(b)
	if err == nil {
		c.remember(b[:n], src)
	}
	return n, src, err
}

func (c *recordingConn) remember(b []byte, src net.Addr) {
	c.mu.Lock()
	c.last = append(c.last[:0], b...)
	c.src = src
	c.mu.Unlock()
}

// sourceOf returns where data came from if it is the last datagram read.
func (c *recordingConn) sourceOf(data string) (net.Addr, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.src == nil || string(c.last) != data {
		return nil, false
	}
	return c.src, true
}

// answerUnparsed answers a datagram sipgo could not parse with a
// stateless 400, if it is a request a client could match a response to.
func (s *Server) answerUnparsed(data string) {
	res := badRequest(data)
	if res == nil {
		return
	}
	s.mu.Lock()
	conns := slices.Clone(s.udpConns)
	s.mu.Unlock()
	for _, c := range conns {
		if src, ok := c.sourceOf(data); ok {
			// To the source address, as with rport (RFC 3581 s.4): the
			// Via may be what could not be parsed.
			_, _ = c.WriteTo(res, src)
			return
		}
	}
}

// badRequest builds a 400 for an unparseable request from its raw header
// lines, or returns nil for anything that is not a request carrying the
// Via, From, To, Call-ID and CSeq a client matches a response by (RFC
// 3261 s.8.1.3.1, s.17.1.3), for an ACK (never answered), and for lines
// with control characters, which are not echoed.
func badRequest(data string) []byte {
	head, _, _ := strings.Cut(data, "\r\n\r\n")
	lines := strings.Split(head, "\r\n")
	if len(lines) < 2 || !looksLikeRequestLine(lines[0]) || strings.HasPrefix(lines[0], "ACK ") {
		return nil
	}
	var via []string
	var from, to, callID, cseq string
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		var dst *string
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "via", "v":
			// A client matches a response by its top Via's branch
			// (RFC 3261 s.17.1.3); one that is not even SIP/2.0/...
			// can be matched by nothing, so nothing is sent.
			if !strings.HasPrefix(strings.ToUpper(value), "SIP/2.0/") {
				return nil
			}
			via = append(via, value)
		case "from", "f":
			dst = &from
		case "to", "t":
			dst = &to
		case "call-id", "i":
			dst = &callID
		case "cseq":
			dst = &cseq
		default:
			continue
		}
		if len(l) > maxEchoedLine || strings.ContainsFunc(l, isControl) {
			return nil
		}
		if dst != nil {
			*dst = value
		}
	}
	if len(via) == 0 || from == "" || to == "" || callID == "" || cseq == "" || strings.HasSuffix(cseq, " ACK") {
		return nil
	}
	if !strings.Contains(strings.ToLower(to), ";tag=") {
		to += ";tag=" + newTag() // s.8.2.6.2
	}
	var b strings.Builder
	b.WriteString("SIP/2.0 400 Bad Request\r\n")
	for _, v := range via {
		b.WriteString("Via: " + v + "\r\n")
	}
	b.WriteString("From: " + from + "\r\nTo: " + to + "\r\nCall-ID: " + callID + "\r\nCSeq: " + cseq + "\r\n")
	b.WriteString("Content-Length: 0\r\n\r\n")
	res := []byte(b.String())
	// What the request's own lines gave may still not make a response a
	// client can parse (a Via with no transport, say); send nothing then.
	// This runs only for messages that already failed to parse.
	if _, err := sip.NewParser().ParseSIP(res); err != nil {
		return nil
	}
	return res
}

// looksLikeRequestLine reports whether l has the shape of a Request-Line,
// "Method SP Request-URI SP SIP-Version" (RFC 3261 s.7.1), even with a
// bad version, and is not a Status-Line.
func looksLikeRequestLine(l string) bool {
	parts := strings.Split(l, " ")
	return len(parts) == 3 && parts[0] != "" && parts[1] != "" && parts[2] != "" && !strings.HasPrefix(l, "SIP/")
}

func isControl(r rune) bool { return (r < 0x20 && r != '\t') || r == 0x7f }
