package sip

import (
	"net"
	"net/netip"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// endpoint is where a call reaches sipagent: the address it advertises in
// Contact and SDP, the address RTP binds to, and the listener's transport.
type endpoint struct {
	advertise netip.Addr // c= in SDP, Contact host unless ExternalHost is a name
	bind      netip.Addr // RTP socket address (may be unspecified)
	port      int        // SIP listener port
	transport string
}

// localEndpoint works out the endpoint for a request. The listener's own
// address serves when it is specific; on a wildcard listener the kernel's
// route to the caller tells which local address the caller can reach.
func (s *Server) localEndpoint(req *sip.Request, tx sip.ServerTransaction) endpoint {
	ep := endpoint{transport: strings.ToLower(req.Transport())}
	src, _ := netip.ParseAddrPort(req.Source())
	if ct, ok := tx.(interface{ Connection() sip.Connection }); ok && ct.Connection() != nil {
		if la, err := netip.ParseAddrPort(ct.Connection().LocalAddr().String()); err == nil {
			ep.bind, ep.port = la.Addr().Unmap(), int(la.Port())
		}
	}
	if ep.port == 0 {
		l := s.Addr(ep.transport)
		ep.bind, ep.port = l.Addr().Unmap(), int(l.Port())
	}
	ep.advertise = ep.bind
	if ep.advertise.IsUnspecified() || !ep.advertise.IsValid() {
		ep.advertise = routeTo(src.Addr())
	}
	if !ep.bind.IsValid() {
		ep.bind = netip.IPv4Unspecified()
	}
	if s.externalIP.IsValid() {
		ep.advertise = s.externalIP
	}
	return ep
}

// routeTo returns the local address the kernel would send to dst from.
// Connecting a UDP socket sends nothing.
func routeTo(dst netip.Addr) netip.Addr {
	if !dst.IsValid() {
		return netip.IPv4Unspecified()
	}
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, 9)))
	if err != nil {
		return netip.IPv4Unspecified()
	}
	defer func() { _ = c.Close() }() // connected only to ask the route; nothing was sent
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
}

// contact is the Contact header for a call on ep (RFC 3261 s.8.1.1.8).
func (s *Server) contact(ep endpoint) sip.ContactHeader {
	host := ep.advertise.String()
	if s.cfg.ExternalHost != "" {
		host = s.cfg.ExternalHost
	}
	uri := sip.Uri{Scheme: "sip", Host: host, Port: ep.port}
	if ep.transport != "udp" {
		uri.UriParams = sip.NewParams()
		uri.UriParams.Add("transport", ep.transport)
	}
	return sip.ContactHeader{Address: uri}
}
