package sip_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/sipagent/sipagent/sip/siptest"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/sip"
)

// A bridge to a sip:...;transport=tls target: sipagent calls kamailio's
// TLS port from its own TLS listener (the Contact), checking kamailio's
// certificate against the target's host name, and kamailio hands the
// call to a sipp UAS registered there. The bridge's time limit ends it,
// and the BYE reaches the target along the route set kamailio recorded,
// over TLS.
func TestBridgeToTLSTarget(t *testing.T) {
	k := tlsKamailio(t, kamailioOpts{})
	dir := t.TempDir()
	uasScenario := filepath.Join(dir, "uas.xml")
	if err := os.WriteFile(uasScenario, []byte(kamUAS), 0o644); err != nil {
		t.Fatal(err)
	}
	uasPort := freePortOn(t, "udp", "127.0.0.1")
	reg := newKamRegClient(t, k, "udp", "agent")
	reg.contact = "sip:agent@127.0.0.1:" + strconv.Itoa(uasPort)
	res, _, _ := reg.login(60, "secret")
	wantStatus(t, k, "REGISTER for the target", res, 200)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	uasDone := make(chan error, 1)
	var uasOut string
	go func() {
		var err error
		uasOut, err = kamSipp(ctx, t, dir, "-sf", uasScenario, "-p", strconv.Itoa(uasPort))
		uasDone <- err
	}()

	target := "sip:agent@localhost:" + strconv.Itoa(k.TLSPort) + ";transport=tls"
	results := make(chan agent.TransferResult, 1)
	// The time limit ends the bridge: both legs get BYE.
	xfer := transferAgentReq(agent.TransferRequest{Target: target, Mode: "bridge", TimeLimit: time.Second}, results)
	srv := startServer(t, map[string]agent.Agent{"xfer": xfer},
		withTransfer(t, "sip:agent@localhost"),
		withTLS(siptest.NewPKI(t, []string{"sipagent.test"}, []net.IP{net.IPv4(127, 0, 0, 1)})),
		func(c *sip.Config) { c.TLS.RootCAs = k.opts.TLS.CAPool })
	if out, err := runSipp(t, srv, sippRun{Scenario: "uac_wait_bye.xml", User: "xfer"}); err != nil {
		t.Fatalf("caller: %v\n%s\n%s", err, out, k.Logs())
	}
	select {
	case err := <-uasDone:
		if err != nil {
			t.Fatalf("target: %v\n%s\n%s", err, uasOut, k.Logs())
		}
	case <-ctx.Done():
		t.Fatal("the target never got its BYE")
	}
	if res := <-results; res.Status != "completed" || res.SIPCode != 200 {
		t.Errorf("result %+v, want completed 200", res)
	}
	waitIdle(t, srv)
	for _, marker := range []string{
		"KREQ method=INVITE ruri=sip:agent@localhost:" + strconv.Itoa(k.TLSPort), // the request, over TLS:
		"proto=tls",
		"KINDLG method=ACK via=route",
		"KINDLG method=BYE via=route",
	} {
		if k.WaitCount(marker, 1, 5*time.Second) == 0 {
			t.Errorf("kamailio never logged %q\n%s", marker, k.Logs())
		}
	}
}
