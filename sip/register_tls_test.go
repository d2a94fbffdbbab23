package sip_test

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipagent/sipagent/sip/siptest"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/sip"
)

// sipagent registers to a real kamailio over TLS (kamailio's tls module,
// certificates from a throwaway CA): the certificate is checked against
// the name dialled, calls come back over the registration's connection,
// a registrar restart is noticed at once, and shutdown unregisters.

// tlsKamailio starts kamailio with a TLS listener whose certificate names
// only "localhost", so that a client checking it against 127.0.0.1 fails.
func tlsKamailio(t *testing.T, o kamailioOpts) *kamailio {
	t.Helper()
	o.TLS = siptest.NewPKI(t, []string{"localhost"}, nil)
	return startKamailio(t, o)
}

// regServerTLS starts a server with a TLS listener (its own certificate,
// from another CA) and one account registering to k over TLS through
// host, trusting roots.
func regServerTLS(t *testing.T, k *kamailio, host string, roots *x509.CertPool, acct sip.Account) *sip.Server {
	t.Helper()
	own := siptest.NewPKI(t, []string{"sipagent.test"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	proxy := mustURI(t, "sip:"+net.JoinHostPort(host, strconv.Itoa(k.TLSPort)))
	acct.Proxy, acct.Transport = &proxy, "tls"
	return regServer(t, k, acct, func(c *sip.Config) {
		c.Listeners = append(c.Listeners, sip.Listener{Transport: "tls", Addr: "127.0.0.1:0"})
		c.TLS = &tls.Config{Certificates: []tls.Certificate{own.Cert}, RootCAs: roots}
	})
}

// Registered over TLS: kamailio holds a TLS contact, a call it routes to
// the AOR arrives over that connection with the registrar's headers, a
// kamailio restart is followed by a new registration at once (not at the
// next refresh, an hour away), and Close unregisters.
func TestRegisterOverTLS(t *testing.T) {
	k := tlsKamailio(t, kamailioOpts{Realm: "sip.twilio.com", User: "agent", Password: "s3cret", Proxy407: true})
	rec := newRecorder()
	srv := regServerTLS(t, k, "localhost", k.opts.TLS.CAPool,
		sip.Account{Password: "s3cret", Expires: time.Hour, KeepAlive: 200 * time.Millisecond, Agent: rec})

	st := waitState(t, srv, sip.RegRegistered, 10*time.Second)
	cs := k.WaitContacts(t, "agent", 1, 5*time.Second)
	tlsAddr := srv.Addr("tls").String()
	if cs[0].Transport != "tls" || !strings.Contains(cs[0].URI, tlsAddr) || !strings.Contains(cs[0].URI, "transport=tls") {
		t.Errorf("registrar holds %+v, want our TLS listener %s", cs[0], tlsAddr)
	}
	if !strings.HasSuffix(st.Contact, ";transport=tls") {
		t.Errorf("status contact %q", st.Contact)
	}

	// kamailio sends the call down the connection the REGISTER opened.
	out, err := runSipp(t, srv, sippRun{Scenario: "uac_via_registrar.xml", User: "agent", Target: k.Addr()})
	if err != nil {
		t.Fatalf("call through kamailio: %v\n%s\n%s", err, out, k.Logs())
	}
	rec.wait(t)
	info := rec.info
	if info.Transport != "tls" || info.Account != "kam" || info.Caller != (agent.Caller{Kind: agent.CallerAccount, Name: "kam"}) {
		t.Errorf("call over %q for account %q from %+v, want tls, the account and its registrar", info.Transport, info.Account, info.Caller)
	}
	if got := info.Header("X-Twilio-CallSid"); got != "CA0123456789abcdef0123456789abcdef" {
		t.Errorf("X-Twilio-CallSid = %q", got)
	}
	waitIdle(t, srv)

	saved := k.Count("KSAVED")
	k.Restart(t)
	k.WaitContacts(t, "agent", 1, 10*time.Second)
	waitCount(t, k, "KSAVED", saved+1, 5*time.Second) // its log line may come after the table has it

	saved = k.Count("KSAVED")
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	waitCount(t, k, "KSAVED", saved+1, 5*time.Second) // the Expires: 0
	if cs := k.Contacts(t, "agent"); len(cs) != 0 {
		t.Errorf("registrar still holds %+v after shutdown", cs)
	}
}

// A registrar whose certificate cannot be trusted gets no REGISTER: the
// account retries with backoff, and its status says why.
func TestRegisterTLSUntrusted(t *testing.T) {
	tests := []struct {
		name string
		host string // dialled
		ca   bool   // trust kamailio's CA
		want string // in the status error
	}{
		{"unknown authority", "localhost", false, "not trusted: x509: certificate signed by unknown authority"},
		{"name mismatch", "127.0.0.1", true, "not trusted: x509: cannot validate certificate for 127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := tlsKamailio(t, kamailioOpts{User: "agent", Password: "pw"})
			roots := siptest.NewPKI(t, []string{"localhost"}, nil).CAPool // another CA
			if tt.ca {
				roots = k.opts.TLS.CAPool
			}
			srv := regServerTLS(t, k, tt.host, roots, sip.Account{Password: "pw", Expires: time.Hour})
			st := waitState(t, srv, sip.RegRetrying, 10*time.Second)
			if !strings.Contains(st.LastError, tt.want) || !st.Retry.After(time.Now()) {
				t.Errorf("status %+v, want an error naming %q and a retry time", st, tt.want)
			}
			if n := k.Count("KREG"); n != 0 {
				t.Errorf("kamailio got %d REGISTERs over an untrusted connection", n)
			}
		})
	}
}
