package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sipagent/sipagent/sip/siptest"
)

// optionsTLS sends OPTIONS over a new TLS connection to addr and returns
// the answer and the name in the certificate the server showed.
func optionsTLS(t *testing.T, addr string) (answer, served string) {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr,
		&tls.Config{InsecureSkipVerify: true}) // #nosec G402 -- the test reads the certificate itself
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	served = c.ConnectionState().PeerCertificates[0].DNSNames[0]
	req := optionsRequest("TLS", addr, c.LocalAddr().String())
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	status, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("no answer to OPTIONS over TLS: %v", err)
	}
	return status, served
}

// The binary serves SIP over TLS with the certificate in sip.tls, and
// serves a renewed certificate to new connections without a restart.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	siptest.NewPKI(t, []string{"first"}, nil).Install(t, certFile, keyFile)
	port := freeTCPPort(t)
	cfg := fmt.Sprintf(`
sip:
  listen: ["udp://127.0.0.1:0", "tls://127.0.0.1:%d"]
  tls: {cert_file: %s, key_file: %s}
media: {rtp_ports: "25000-25999"}
agents: {demo: {kind: echo}}
routes: [{agent: demo}]
peers: [{name: l, addresses: [127.0.0.1]}]
`, port, certFile, keyFile)
	path := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bin := startBin(t, ctx, "--config", path)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if !eventually(10*time.Second, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	}) {
		t.Fatal("sipagent did not listen on TLS")
	}
	if status, served := optionsTLS(t, addr); !strings.HasPrefix(status, "SIP/2.0 200") || served != "first" {
		t.Errorf("OPTIONS over TLS: %q from a certificate named %q", status, served)
	}

	siptest.NewPKI(t, []string{"renewed"}, nil).Install(t, certFile, keyFile)
	if status, served := optionsTLS(t, addr); !strings.HasPrefix(status, "SIP/2.0 200") || served != "renewed" {
		t.Errorf("after renewal: %q from a certificate named %q", status, served)
	}

	bin.signal(t, syscall.SIGTERM)
	if err := bin.wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
}
