package sip

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
)

// SIP over TLS (RFC 3261 s.26.2.1, RFC 5922 for which names a
// certificate must hold). One tls.Config serves both roles: its
// certificate for tls listeners and for peers that ask for a client
// certificate, its RootCAs for the servers sipagent connects to.

// tlsHandshakeTimeout bounds a TLS handshake on a listener: a client
// that connects and says nothing must not hold a connection and its
// reader for ever.
const tlsHandshakeTimeout = 10 * time.Second

// defaultTLSPort is where TLS requests go when a URI names no port
// (RFC 3261 s.19.1.2).
const defaultTLSPort = 5061

// hasCertificate reports whether c can serve a tls listener.
func hasCertificate(c *tls.Config) bool {
	return c != nil && (len(c.Certificates) > 0 || c.GetCertificate != nil || c.GetConfigForClient != nil)
}

// serverTLS is the configuration of tls listeners. Softphones seldom
// have certificates of their own, so none is asked for: callers
// authenticate with digest like everyone else.
func serverTLS(c *tls.Config) *tls.Config {
	c = c.Clone()
	if c.MinVersion == 0 {
		c.MinVersion = tls.VersionTLS12
	}
	return c
}

// clientTLS is the configuration of connections sipagent opens. sipgo
// sets ServerName to the host each request is sent to, so it is left
// empty here: a name fixed in the configuration would be checked
// against every server.
func clientTLS(c *tls.Config) *tls.Config {
	c = c.Clone()
	c.ServerName = ""
	if c.MinVersion == 0 {
		c.MinVersion = tls.VersionTLS12
	}
	return c
}

// defaultPort is the port of a URI that names none, for transport.
func defaultPort(transport string) int {
	if transport == "tls" {
		return defaultTLSPort
	}
	return 5060
}

// tlsDestination is where sipgo sends a request resolved to dest. Over
// TLS it is the host name itself, which sipgo resolves again and checks
// the server's certificate against (RFC 5922 s.7.2); an address would
// only match a certificate issued for that address.
func tlsDestination(transport, host string, dest netip.AddrPort) string {
	if transport != "tls" || host == "" {
		return dest.String()
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return net.JoinHostPort(host, strconv.Itoa(int(dest.Port())))
}

// tlsListener serves TLS on a TCP listener, with a deadline on each
// connection's handshake.
type tlsListener struct {
	net.Listener
	conf    *tls.Config
	timeout time.Duration // of the handshake; 0 means tlsHandshakeTimeout
}

func (l tlsListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	timeout := l.timeout
	if timeout == 0 {
		timeout = tlsHandshakeTimeout
	}
	return &serverTLSConn{Conn: tls.Server(c, l.conf), timeout: timeout}, nil
}

// serverTLSConn runs the handshake on the first Read, the reader's
// first call, within timeout.
type serverTLSConn struct {
	*tls.Conn
	timeout    time.Duration
	handshaken atomic.Bool
}

func (c *serverTLSConn) Read(b []byte) (int, error) {
	if !c.handshaken.Load() {
		_ = c.SetDeadline(time.Now().Add(c.timeout))
		err := c.Handshake()
		_ = c.SetDeadline(time.Time{})
		if err != nil {
			return 0, err
		}
		c.handshaken.Store(true)
	}
	return c.Conn.Read(b)
}

// certError finds, in a failed send, the reason the far end's
// certificate was refused: the part an operator can act on, without
// the transport layers' wrapping.
func certError(err error) (error, bool) {
	var ce *tls.CertificateVerificationError
	if errors.As(err, &ce) {
		return ce.Err, true
	}
	return nil, false
}

// checkTLSReuse makes sure a TLS request for host, resolved to dest, is
// not sent over a connection whose certificate was never checked for
// host. sipgo keeps one connection per remote address and reuses it for
// any request to that address: one a peer opened to our listener
// (nobody checked its certificate), or one we opened for another name
// at the same address. Without a pooled connection sipgo dials a new
// one and checks it against host itself. host "" is a flow to reuse as
// it is (a softphone's registration), checked by digest, not TLS.
func (s *Server) checkTLSReuse(transport, host string, dest netip.AddrPort) error {
	if transport != "tls" || host == "" {
		return nil
	}
	c, err := s.ua.TransportLayer().GetConnection("tls", dest.String())
	if err != nil {
		return nil // none: a new connection, checked by the handshake
	}
	defer func() { _, _ = c.TryClose() }() // GetConnection took a reference
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if tc, ok := c.(*sip.TCPConnection); ok {
		if conn, ok := tc.Conn.(*tls.Conn); ok {
			st := conn.ConnectionState()
			if len(st.VerifiedChains) > 0 && len(st.PeerCertificates) > 0 && st.PeerCertificates[0].VerifyHostname(host) == nil {
				return nil
			}
		}
	}
	return fmt.Errorf("sip: the TLS connection open to %s was not verified for %s; not sending over it", dest, host)
}
