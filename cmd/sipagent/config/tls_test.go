package config

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/sipagent/sipagent/sip/siptest"
)

func servedName(t *testing.T, conf *tls.Config) string {
	t.Helper()
	c, err := conf.GetCertificate(&tls.ClientHelloInfo{})
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return leaf.DNSNames[0]
}

// A tls listener with its certificate, a TLS account, a CA bundle: the
// configuration validates, and a renewed certificate is served without a
// restart.
func TestTLSConfig(t *testing.T) {
	first := siptest.NewPKI(t, []string{"old.example"}, nil)
	certFile, keyFile := first.CertFile, first.KeyFile
	doc := `
sip:
  listen: ["udp://127.0.0.1:5060", "tls://127.0.0.1:5061"]
  tls: {cert_file: ` + certFile + `, key_file: ` + keyFile + `, ca_file: ` + first.CAFile + `}
agents: {demo: {kind: echo}}
routes: [{agent: demo}]
accounts:
  - {name: twilio, registrar: "sip:example.sip.twilio.com", username: agent, password: x, transport: tls, agent: demo}
`
	cfg, err := Parse([]byte(doc), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if ls := cfg.Listeners(); len(ls) != 2 || ls[1].Transport != "tls" || ls[1].Addr != "127.0.0.1:5061" {
		t.Errorf("listeners %+v", ls)
	}
	var logs bytes.Buffer
	conf, err := cfg.TLSConfig(slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if conf.RootCAs == nil || conf.MinVersion != tls.VersionTLS12 || conf.GetClientCertificate == nil {
		t.Errorf("tls config %+v", conf)
	}
	if got := servedName(t, conf); got != "old.example" {
		t.Errorf("serves %q", got)
	}

	// Renewal: new files in place.
	siptest.NewPKI(t, []string{"new.example"}, nil).Install(t, certFile, keyFile)
	if got := servedName(t, conf); got != "new.example" {
		t.Errorf("after renewal serves %q, want new.example", got)
	}
	// A half-written renewal keeps the last good certificate.
	if err := os.WriteFile(keyFile, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if got := servedName(t, conf); got != "new.example" {
			t.Errorf("with a broken key file serves %q", got)
		}
	}
	if n := strings.Count(logs.String(), "TLS certificate renewed"); n != 1 {
		t.Errorf("%d renewal lines, want 1:\n%s", n, logs.String())
	}
	if n := strings.Count(logs.String(), "cannot be used"); n != 1 {
		t.Errorf("%d warnings for one unusable renewal over three handshakes, want 1:\n%s", n, logs.String())
	}
}

func TestTLSConfigEmpty(t *testing.T) {
	cfg, err := Parse(Default, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if conf, err := cfg.TLSConfig(slog.New(slog.DiscardHandler)); conf != nil || err != nil {
		t.Errorf("no sip.tls: %v, %v; want nil", conf, err)
	}
	doc := "sip: {tls: {ca_file: " + os.DevNull + "}}\nagents: {demo: {kind: echo}}\nroutes: [{agent: demo}]\npeers: [{name: l, addresses: [127.0.0.1]}]\n"
	if _, err := Parse([]byte(doc), env(nil)); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("empty CA file: %v", err)
	}
}
