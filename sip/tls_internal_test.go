package sip

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/sipagent/sipagent/sip/siptest"
)

// A client that connects and never starts its handshake is cut off
// after the handshake timeout; one that completes it is served, and its
// connection has no deadline left over.
func TestTLSListenerHandshakeTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	const timeout = 200 * time.Millisecond
	tl := tlsListener{Listener: ln, conf: serverTLS(siptest.NewPKI(t, []string{"localhost"}, nil).ServerConfig()), timeout: timeout}
	defer func() { _ = tl.Close() }()

	silent, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = silent.Close() }()
	sc, err := tl.Accept()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = sc.Read(make([]byte, 10))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Read on a silent client: %v, want a deadline error", err)
	}
	if d := time.Since(start); d > 5*timeout {
		t.Errorf("cut off after %v, want about %v", d, timeout)
	}
	_ = sc.Close()

	type read struct {
		b   []byte
		err error
	}
	got := make(chan read, 1)
	go func() {
		c, err := tl.Accept()
		if err != nil {
			got <- read{err: err}
			return
		}
		defer func() { _ = c.Close() }()
		b := make([]byte, 5)
		_, err = io.ReadFull(c, b)
		got <- read{b, err}
	}()
	cc, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true}) // #nosec G402 -- a self-signed test server
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cc.Close() }()
	time.Sleep(2 * timeout) // past the handshake deadline: it must be gone
	if _, err := cc.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if r.err != nil || string(r.b) != "hello" {
		t.Errorf("after the handshake read %q, %v", r.b, r.err)
	}
}

func TestTLSDestination(t *testing.T) {
	dest, port := netip.MustParseAddrPort("192.0.2.1:5061"), "5061"
	for _, tt := range []struct{ transport, host, want string }{
		{"tls", "pbx.example.com", "pbx.example.com:" + port},
		{"tls", "[2001:db8::1]", "[2001:db8::1]:" + port},
		{"tls", "", "192.0.2.1:5061"},
		{"tcp", "pbx.example.com", "192.0.2.1:5061"},
	} {
		if got := tlsDestination(tt.transport, tt.host, dest); got != tt.want {
			t.Errorf("tlsDestination(%q, %q) = %q, want %q", tt.transport, tt.host, got, tt.want)
		}
	}
}
