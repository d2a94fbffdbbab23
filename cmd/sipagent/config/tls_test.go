package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate for name and its key as PEM
// files in dir, and returns their paths.
func writeCert(t *testing.T, dir, name string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: name},
		DNSNames:              []string{name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

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
	return leaf.Subject.CommonName
}

// A tls listener with its certificate, a TLS account, a CA bundle: the
// configuration validates, and a renewed certificate is served without a
// restart.
func TestTLSConfig(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeCert(t, dir, "old.example")
	doc := `
sip:
  listen: ["udp://127.0.0.1:5060", "tls://127.0.0.1:5061"]
  tls: {cert_file: ` + certFile + `, key_file: ` + keyFile + `, ca_file: ` + certFile + `}
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
	conf, err := cfg.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	if conf.RootCAs == nil || conf.MinVersion != tls.VersionTLS12 || conf.GetClientCertificate == nil {
		t.Errorf("tls config %+v", conf)
	}
	if got := servedName(t, conf); got != "old.example" {
		t.Errorf("serves %q", got)
	}

	// Renewal: new files in place (a later modification time).
	newDir := t.TempDir()
	nc, nk := writeCert(t, newDir, "new.example")
	later := time.Now().Add(time.Minute)
	for _, f := range [][2]string{{nc, certFile}, {nk, keyFile}} {
		if err := os.Rename(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(f[1], later, later); err != nil {
			t.Fatal(err)
		}
	}
	if got := servedName(t, conf); got != "new.example" {
		t.Errorf("after renewal serves %q, want new.example", got)
	}
	// A half-written renewal keeps the last good certificate.
	if err := os.WriteFile(keyFile, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := servedName(t, conf); got != "new.example" {
		t.Errorf("with a broken key file serves %q", got)
	}
}

func TestTLSConfigEmpty(t *testing.T) {
	cfg, err := Parse(Default, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if conf, err := cfg.TLSConfig(); conf != nil || err != nil {
		t.Errorf("no sip.tls: %v, %v; want nil", conf, err)
	}
	doc := "sip: {tls: {ca_file: " + os.DevNull + "}}\nagents: {demo: {kind: echo}}\nroutes: [{agent: demo}]\npeers: [{name: l, addresses: [127.0.0.1]}]\n"
	if _, err := Parse([]byte(doc), env(nil)); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("empty CA file: %v", err)
	}
}
