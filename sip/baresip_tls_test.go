package sip_test

import (
	"net"
	"testing"
	"time"

	"github.com/sipagent/sipagent/sip/siptest"
)

// baresip registers to sipagent over TLS with digest, and sipagent
// calls it back over that connection: the agent's audio reaches it.
func TestBaresipRegistersOverTLS(t *testing.T) {
	ctx := baresipContext(t)
	pki := siptest.NewPKI(t, []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	srv := startServer(t, nil, withAlice(), withTLS(pki))
	ph := startBaresip(t, ctx, phoneConfig{
		AOR:     "sip:alice@" + srv.Addr("tls").String() + ";transport=tls",
		Account: "regint=60;auth_pass=" + alicePassword + ";answermode=auto",
		Codecs:  "PCMU",
		Mic:     make([]int16, samples(6*time.Second)),
		CAFile:  pki.CAFile,
	})
	waitRegistered(t, srv, ph)
	if transport := playToAlice(t, ctx, srv, ph); transport != "tls" {
		t.Errorf("the call to the TLS registration went over %q", transport)
	}
}
