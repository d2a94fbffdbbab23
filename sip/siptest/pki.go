package siptest

// Throwaway certificates for tests of SIP over TLS: a certificate
// authority and one certificate it signed, as PEM files for real peers
// (kamailio, baresip, the sipagent binary) and as values for Go peers.

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

// PKI is a certificate authority and one leaf certificate it signed.
type PKI struct {
	CAFile   string // the CA certificate, PEM
	CertFile string // the leaf certificate, PEM
	KeyFile  string // the leaf's private key, PEM (PKCS #8, unencrypted)

	CAPool *x509.CertPool  // holds the CA only
	Cert   tls.Certificate // the leaf with its key
}

// NewPKI makes a self-signed ECDSA P-256 CA and a leaf for dnsNames and
// ips, usable as server and as client certificate, valid from an hour
// ago (clock skew between processes) for a day. The PEM files are in
// t.TempDir().
func NewPKI(t testing.TB, dnsNames []string, ips []net.IP) *PKI {
	t.Helper()
	now := time.Now()
	caKey := newKey(t)
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

	leafKey := newKey(t)
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
	p := &PKI{
		CAFile:   writePEM(t, dir, "ca.pem", "CERTIFICATE", caDER),
		CertFile: writePEM(t, dir, "cert.pem", "CERTIFICATE", leafDER),
		KeyFile:  writePEM(t, dir, "key.pem", "PRIVATE KEY", keyDER),
		CAPool:   x509.NewCertPool(),
	}
	p.CAPool.AddCert(ca)
	if p.Cert, err = tls.LoadX509KeyPair(p.CertFile, p.KeyFile); err != nil {
		t.Fatal(err)
	}
	return p
}

// ServerConfig presents the leaf; it does not ask for client certificates.
func (p *PKI) ServerConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{p.Cert}, MinVersion: tls.VersionTLS12}
}

// ClientConfig trusts the test CA only. Set ServerName when dialing by IP
// to check a DNS name instead of the IP SAN.
func (p *PKI) ClientConfig() *tls.Config {
	return &tls.Config{RootCAs: p.CAPool, MinVersion: tls.VersionTLS12}
}

// Install puts the leaf's certificate and key at certFile and keyFile,
// each written aside and renamed over the old one, as a certificate
// manager renews, with a modification time a minute ahead, so that a
// reader watching the times sees the change on any file system.
func (p *PKI) Install(t testing.TB, certFile, keyFile string) {
	t.Helper()
	later := time.Now().Add(time.Minute)
	for _, f := range [][2]string{{p.CertFile, certFile}, {p.KeyFile, keyFile}} {
		b, err := os.ReadFile(f[0])
		if err != nil {
			t.Fatal(err)
		}
		tmp := f[1] + ".new"
		if err := os.WriteFile(tmp, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(tmp, later, later); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, f[1]); err != nil {
			t.Fatal(err)
		}
	}
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// writePEM writes der as one PEM block of type typ to dir/name and
// returns the path. Readable by its owner only, as a private key should be.
func writePEM(t testing.TB, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
