package siptest

import (
	"net"
	"strconv"
	"testing"
)

// FreePort returns a port the OS just had free on host for network
// ("udp", or "tcp" for TCP and TLS). It may be taken again before the
// caller binds it; tests that hand it to another process retry or let
// that process fail loudly.
func FreePort(t testing.TB, network, host string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", net.JoinHostPort(host, "0"))
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

// FreeEvenPorts returns the first of n UDP ports in a row, starting even,
// that the OS just had free on host: RTP and RTCP pairs for sipp and
// baresip.
func FreeEvenPorts(t testing.TB, host string, n int) int {
	t.Helper()
	for range 100 {
		p := FreePort(t, "udp", host) &^ 1
		ok := p+n-1 <= 65535
		for i := 0; ok && i < n; i++ {
			c, err := net.ListenPacket("udp", net.JoinHostPort(host, strconv.Itoa(p+i)))
			if err != nil {
				ok = false
				break
			}
			_ = c.Close()
		}
		if ok {
			return p
		}
	}
	t.Fatalf("no %d free ports in a row", n)
	return 0
}
