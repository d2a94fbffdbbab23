package config

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// TLS configures SIP over TLS: the certificate tls:// listeners present,
// and the authorities trusted when sipagent connects to a registrar or a
// transfer target over TLS.
type TLS struct {
	// CertFile and KeyFile are PEM files of the certificate (with its
	// chain) and its private key. Needed by tls:// listeners, and shown
	// to peers that ask for a client certificate. Read again when they
	// change, so that a renewed certificate needs no restart.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// CAFile is a PEM bundle of authorities trusted for the servers
	// sipagent connects to, in place of the system's roots (a private
	// PBX's CA). Empty: the system's roots.
	CAFile string `yaml:"ca_file"`
}

// validateTLS checks sip.tls: the files exist and parse, and tls
// listeners and accounts have a certificate.
func (c *Config) validateTLS() error {
	t := c.SIP.TLS
	needCert := false
	for _, l := range c.Listeners() {
		needCert = needCert || l.Transport == "tls"
	}
	switch {
	case t.CertFile == "" && t.KeyFile != "":
		return &Error{Key: "sip.tls.cert_file", Msg: "missing (key_file is set)"}
	case t.CertFile != "" && t.KeyFile == "":
		return &Error{Key: "sip.tls.key_file", Msg: "missing (cert_file is set)"}
	case needCert && t.CertFile == "":
		return &Error{Key: "sip.tls.cert_file", Msg: "missing: a tls:// listener needs a certificate and key (cert_file, key_file)"}
	}
	if t.CertFile != "" {
		if _, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile); err != nil {
			return &Error{Key: "sip.tls.cert_file", Msg: err.Error()}
		}
	}
	if t.CAFile != "" {
		if _, err := loadCAs(t.CAFile); err != nil {
			return &Error{Key: "sip.tls.ca_file", Msg: err.Error()}
		}
	}
	return nil
}

// TLSConfig returns sip.tls as a tls.Config, or nil when it is empty.
// Call it after Validate. log hears of certificate renewals, and of
// renewed files that cannot be used.
func (c *Config) TLSConfig(log *slog.Logger) (*tls.Config, error) {
	t := c.SIP.TLS
	if t.CertFile == "" && t.CAFile == "" {
		return nil, nil
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if t.CertFile != "" {
		kp := &keyPair{certFile: t.CertFile, keyFile: t.KeyFile, log: log}
		if _, err := kp.get(); err != nil {
			return nil, fmt.Errorf("sip.tls.cert_file: %w", err)
		}
		conf.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return kp.get() }
		conf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return kp.get() }
	}
	if t.CAFile != "" {
		pool, err := loadCAs(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("sip.tls.ca_file: %w", err)
		}
		conf.RootCAs = pool
	}
	return conf, nil
}

func loadCAs(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return pool, nil
}

// keyPair is a certificate read from files, read again when either
// file's modification time changes. A renewal that leaves the pair
// unusable (one file written, not yet the other; a key that does not
// match) keeps the last good certificate, with one warning per change.
type keyPair struct {
	certFile, keyFile string
	log               *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	modTime [2]time.Time // of the files cert was read from
	badTime [2]time.Time // of the files that last failed to load
}

func (k *keyPair) get() (*tls.Certificate, error) {
	var mt [2]time.Time
	for i, f := range [2]string{k.certFile, k.keyFile} {
		if fi, err := os.Stat(f); err == nil {
			mt[i] = fi.ModTime()
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.cert != nil && (mt == k.modTime || mt == k.badTime) {
		return k.cert, nil
	}
	c, err := tls.LoadX509KeyPair(k.certFile, k.keyFile)
	if err != nil {
		if k.cert != nil {
			k.badTime = mt
			k.log.Warn("TLS certificate files changed but cannot be used; serving the previous certificate",
				"cert_file", k.certFile, "key_file", k.keyFile, "error", err)
			return k.cert, nil
		}
		return nil, err
	}
	if k.cert != nil {
		k.log.Info("TLS certificate renewed", "cert_file", k.certFile)
	}
	k.cert, k.modTime = &c, mt
	return k.cert, nil
}
