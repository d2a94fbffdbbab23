package sip

import (
	"io"
	"net"
)

// crlfKeepAlive is the keepalive of RFC 5626 s.3.5.1 for stream
// transports (a double CRLF, which a SIP parser skips between messages);
// over UDP the same bytes refresh the NAT binding and every SIP stack
// ignores them (RFC 3261 s.7.5).
var crlfKeepAlive = []byte("\r\n\r\n")

// keepAlive sends one keepalive to the registrar from the socket calls
// arrive on, so that NAT bindings on the path stay open.
func (r *registration) keepAlive() {
	r.mu.Lock()
	dest, local := r.dest, r.local
	r.mu.Unlock()
	if !dest.IsValid() {
		return
	}
	var err error
	if r.acct.Transport == "udp" {
		pc := r.srv.udpConnFor(local.port)
		if pc == nil {
			return
		}
		_, err = pc.WriteTo(crlfKeepAlive, net.UDPAddrFromAddrPort(dest))
	} else {
		conn, cerr := r.srv.ua.TransportLayer().GetConnection(r.acct.Transport, dest.String())
		if cerr != nil {
			return // the connection watch re-registers
		}
		defer func() { _, _ = conn.TryClose() }() // GetConnection took a reference
		w, ok := conn.(io.Writer)
		if !ok {
			return
		}
		_, err = w.Write(crlfKeepAlive)
	}
	if err != nil {
		r.log.Debug("keepalive failed", "error", err)
	}
}

// connAlive reports whether the stream connection to the registrar is
// still open; sipgo drops a connection from its pool when it closes.
func (r *registration) connAlive() bool {
	r.mu.Lock()
	dest := r.dest
	r.mu.Unlock()
	conn, err := r.srv.ua.TransportLayer().GetConnection(r.acct.Transport, dest.String())
	if err != nil {
		return false
	}
	_, _ = conn.TryClose() // GetConnection took a reference; the pool keeps its own
	return true
}

// udpConnFor returns the UDP listener bound to port, or nil.
func (s *Server) udpConnFor(port int) net.PacketConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.udpConns {
		if a, ok := c.LocalAddr().(*net.UDPAddr); ok && a.Port == port {
			return c
		}
	}
	return nil
}
