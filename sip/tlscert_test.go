package sip_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testPKI is a throwaway certificate authority and one leaf certificate
// it signed, for TLS tests against real peers (kamailio) that read PEM
// files, and for Go peers that take a tls.Config.
type testPKI struct {
	CAFile   string // the CA certificate, PEM
	CertFile string // the leaf certificate, PEM
	KeyFile  string // the leaf's private key, PEM (PKCS #8, unencrypted)

	CAPool *x509.CertPool  // holds the CA only
	Cert   tls.Certificate // the leaf with its key
}

// newTestPKI makes a self-signed ECDSA P-256 CA and a leaf for dnsNames
// and ips, usable as server and as client certificate, valid from an hour
// ago (clock skew between processes) for a day. The PEM files are in
// t.TempDir().
func newTestPKI(t *testing.T, dnsNames []string, ips []net.IP) *testPKI {
	t.Helper()
	now := time.Now()
	caKey := newTestKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sipagent test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}

	leafKey := newTestKey(t)
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "sipagent test leaf"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:     dnsNames,
		IPAddresses:  ips,
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(leafKey)
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	p := &testPKI{
		CAFile:   writeTestPEM(t, dir, "ca.pem", "CERTIFICATE", caDER),
		CertFile: writeTestPEM(t, dir, "cert.pem", "CERTIFICATE", leafDER),
		KeyFile:  writeTestPEM(t, dir, "key.pem", "PRIVATE KEY", keyDER),
		CAPool:   x509.NewCertPool(),
	}
	p.CAPool.AddCert(ca)
	if p.Cert, err = tls.LoadX509KeyPair(p.CertFile, p.KeyFile); err != nil {
		t.Fatal(err)
	}
	return p
}

// ServerConfig presents the leaf; it does not ask for client certificates.
func (p *testPKI) ServerConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{p.Cert}, MinVersion: tls.VersionTLS12}
}

// ClientConfig trusts the test CA only. Set ServerName when dialing by IP
// to check a DNS name instead of the IP SAN.
func (p *testPKI) ClientConfig() *tls.Config {
	return &tls.Config{RootCAs: p.CAPool, MinVersion: tls.VersionTLS12}
}

func newTestKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// writeTestPEM writes der as one PEM block of type typ to dir/name and
// returns the path. Readable by its owner only, as a private key should be.
func writeTestPEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
