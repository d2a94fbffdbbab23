package sip_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipagent/sipagent/sip"
	"github.com/sipagent/sipagent/sip/siptest"
)

// withTLS adds a TLS listener on loopback serving pki's certificate, and
// trusts pki's CA for connections sipagent opens.
func withTLS(pki *siptest.PKI) serverOpt {
	return func(c *sip.Config) {
		c.Listeners = append(c.Listeners, sip.Listener{Transport: "tls", Addr: "127.0.0.1:0"})
		c.TLS = &tls.Config{Certificates: []tls.Certificate{pki.Cert}, RootCAs: pki.CAPool}
	}
}

// A connection a peer opened to sipagent's TLS listener is pooled by the
// peer's address; sipagent must not send a request for a TLS target at
// that address over it, since no certificate was checked on it.
func TestTLSTargetNotSentOverUnverifiedConnection(t *testing.T) {
	pki := siptest.NewPKI(t, []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	srv := startServer(t, nil, withTLS(pki))
	port := freePortOn(t, "tcp", "127.0.0.1")
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}}
	c, err := tls.DialWithDialer(d, "tcp", srv.Addr("tls").String(), pki.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	local := c.LocalAddr().String()
	opts := "OPTIONS sip:" + srv.Addr("tls").String() + ";transport=tls SIP/2.0\r\n" +
		"Via: SIP/2.0/TLS " + local + ";branch=z9hG4bK-reuse;rport\r\n" +
		"From: <sip:peer@" + local + ">;tag=p\r\nTo: <sip:" + srv.Addr("tls").String() + ">\r\n" +
		"Call-ID: reuse@" + local + "\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	if _, err := c.Write([]byte(opts)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || !strings.HasPrefix(line, "SIP/2.0 200") {
		t.Fatalf("OPTIONS over TLS: %q, %v", line, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	target := mustURI(t, "sip:x@127.0.0.1:"+strconv.Itoa(port))
	_, err = srv.DialURI(ctx, sip.DialRequest{URI: target, Transport: "tls"}, notCalled(t))
	if err == nil || !strings.Contains(err.Error(), "not verified") {
		t.Errorf("DialURI over the peer's own connection: %v, want a refusal", err)
	}
	waitIdle(t, srv)
}
