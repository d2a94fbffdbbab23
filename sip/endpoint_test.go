package sip_test

import (
	"net"
	"regexp"
	"strings"
	"testing"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/sip"
)

// Behind NAT, the address sipagent advertises in Contact and in the SDP
// c= line is sip.external_host, not the address it listens on.
func TestExternalHostAdvertised(t *testing.T) {
	rec := newRecorder()
	srv := startServer(t, map[string]agent.Agent{"rec": rec}, func(c *sip.Config) { c.ExternalHost = "203.0.113.9" })
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(srv.Addr("udp")))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	uac := &rawUAC{t: t, conn: conn, target: srv.Addr("udp").String(), callID: "ext-host-test"}

	ok := uac.invite()
	if !regexp.MustCompile(`(?m)^Contact: <sip:203\.0\.113\.9:\d+>`).MatchString(ok) {
		t.Errorf("Contact does not advertise the external host:\n%s", ok)
	}
	if !strings.Contains(ok, "c=IN IP4 203.0.113.9") {
		t.Errorf("SDP does not advertise the external host:\n%s", ok)
	}
	toTag := regexp.MustCompile(`(?m)^To: .*(;tag=[^;\r\n]+)`).FindStringSubmatch(ok)
	if toTag == nil {
		t.Fatalf("200 has no To tag:\n%s", ok)
	}
	uac.send(uac.head("ACK", 1, toTag[1]) + "Content-Length: 0\r\n\r\n")
	rec.waitStarted(t)
	uac.send(uac.head("BYE", 2, toTag[1]) + "Content-Length: 0\r\n\r\n")
	uac.read("200")
	rec.wait(t)
	waitIdle(t, srv)
}
