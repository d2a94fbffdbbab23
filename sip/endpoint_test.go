package sip_test

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

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
	local := conn.LocalAddr().String()
	sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 29000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
	head := func(method string, cseq int, toTag string) string {
		return fmt.Sprintf("%s sip:rec@%s SIP/2.0\r\n"+
			"Via: SIP/2.0/UDP %s;branch=z9hG4bK-ext-%s-%d;rport\r\n"+
			"From: <sip:caller@%s>;tag=caller1\r\n"+
			"To: <sip:rec@%s>%s\r\n"+
			"Call-ID: ext-host-test\r\n"+
			"CSeq: %d %s\r\n"+
			"Contact: <sip:caller@%s>\r\nMax-Forwards: 70\r\n",
			method, srv.Addr("udp"), local, method, cseq, local, srv.Addr("udp"), toTag, cseq, method, local)
	}
	send := func(msg string) {
		t.Helper()
		if _, err := conn.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	read := func(status string) string {
		t.Helper()
		buf := make([]byte, 8192)
		for {
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, err := conn.Read(buf)
			if err != nil {
				t.Fatalf("waiting for %s: %v", status, err)
			}
			if msg := string(buf[:n]); strings.HasPrefix(msg, "SIP/2.0 "+status) {
				return msg
			}
		}
	}

	send(head("INVITE", 1, "") + fmt.Sprintf("Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", len(sdp), sdp))
	ok := read("200")
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
	send(head("ACK", 1, toTag[1]) + "Content-Length: 0\r\n\r\n")
	rec.waitStarted(t)
	send(head("BYE", 2, toTag[1]) + "Content-Length: 0\r\n\r\n")
	read("200")
	rec.wait(t)
	waitIdle(t, srv)
}
