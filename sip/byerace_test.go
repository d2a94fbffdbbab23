package sip_test

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
)

// A caller that sends its BYE right behind its ACK: sipgo handles each on
// its own goroutine, so the BYE is sometimes handled first. Either way the
// call ends cleanly, the BYE gets 200, and sipagent sends no BYE of its
// own (there is no dialog left to end).
func TestByeRightAfterAck(t *testing.T) {
	srv := startServer(t, map[string]agent.Agent{"rec": agent.AgentFunc(func(ctx context.Context, call agent.Call) error {
		<-ctx.Done()
		return nil
	})})
	for i := range 20 {
		conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(srv.Addr("udp")))
		if err != nil {
			t.Fatal(err)
		}
		uac := &rawUAC{t: t, conn: conn, target: srv.Addr("udp").String(), callID: fmt.Sprintf("bye-race-%d", i)}
		ok := uac.invite()
		tag := regexp.MustCompile(`(?m)^To: .*(;tag=[^;\r\n]+)`).FindStringSubmatch(ok)
		if tag == nil {
			t.Fatalf("200 without To tag:\n%s", ok)
		}
		uac.send(uac.head("ACK", 1, tag[1]) + "Content-Length: 0\r\n\r\n")
		uac.send(uac.head("BYE", 2, tag[1]) + "Content-Length: 0\r\n\r\n")
		uac.read("200")
		waitIdle(t, srv)
		// Any BYE of ours was sent before the call left the registry, so
		// it is in the socket buffer by now.
		if msg, ok := uac.poll(50 * time.Millisecond); ok && strings.HasPrefix(msg, "BYE ") {
			t.Fatalf("call %d: sipagent sent a BYE after the caller's:\n%s", i, msg)
		}
		_ = conn.Close()
	}
}

// rawUAC is a minimal hand-written UDP caller for tests that need exact
// control over message order.
type rawUAC struct {
	t      *testing.T
	conn   *net.UDPConn
	target string
	callID string
	// contact is the Contact host:port; empty means the sending socket.
	contact string
}

func (u *rawUAC) head(method string, cseq int, toTag string) string {
	local := u.conn.LocalAddr().String()
	contact := u.contact
	if contact == "" {
		contact = local
	}
	return fmt.Sprintf("%s sip:rec@%s SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP %s;branch=z9hG4bK-%s-%s-%d;rport\r\n"+
		"From: <sip:caller@%s>;tag=caller1\r\n"+
		"To: <sip:rec@%s>%s\r\n"+
		"Call-ID: %s\r\n"+
		"CSeq: %d %s\r\n"+
		"Contact: <sip:caller@%s>\r\nMax-Forwards: 70\r\n",
		method, u.target, local, u.callID, method, cseq, local, u.target, toTag, u.callID, cseq, method, contact)
}

func (u *rawUAC) send(msg string) {
	u.t.Helper()
	if _, err := u.conn.Write([]byte(msg)); err != nil {
		u.t.Fatal(err)
	}
}

// invite sends an INVITE with a PCMU offer and returns the 200.
func (u *rawUAC) invite() string {
	u.t.Helper()
	sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 29000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
	u.send(u.head("INVITE", 1, "") + fmt.Sprintf("Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", len(sdp), sdp))
	return u.read("200")
}

// read returns the next response with the given status, skipping others.
func (u *rawUAC) read(status string) string {
	u.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		msg, ok := u.poll(time.Until(deadline))
		if !ok {
			u.t.Fatalf("no %s response", status)
		}
		if strings.HasPrefix(msg, "SIP/2.0 "+status) {
			return msg
		}
	}
}

// poll returns the next datagram received within d.
func (u *rawUAC) poll(d time.Duration) (string, bool) {
	buf := make([]byte, 8192)
	_ = u.conn.SetReadDeadline(time.Now().Add(d))
	n, err := u.conn.Read(buf)
	if err != nil {
		return "", false
	}
	return string(buf[:n]), true
}

// A caller whose Contact is not the socket it sends from (same host,
// another port, as a phone with separate send and listen sockets): our
// BYE goes to the Contact (RFC 3261 s.12.2.1.1) and leaves from the port
// the call came in on, not from a new socket of its own.
func TestByeComesFromListenerToContact(t *testing.T) {
	hangup := agent.AgentFunc(func(ctx context.Context, call agent.Call) error { return nil })
	srv := startServer(t, map[string]agent.Agent{"rec": hangup})
	send, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(srv.Addr("udp")))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = send.Close() }()
	listen, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = listen.Close() }()

	uac := &rawUAC{t: t, conn: send, target: srv.Addr("udp").String(), callID: "bye-to-contact",
		contact: listen.LocalAddr().String()}
	ok := uac.invite()
	tag := regexp.MustCompile(`(?m)^To: .*(;tag=[^;\r\n]+)`).FindStringSubmatch(ok)
	if tag == nil {
		t.Fatalf("200 without To tag:\n%s", ok)
	}
	uac.send(uac.head("ACK", 1, tag[1]) + "Content-Length: 0\r\n\r\n")

	buf := make([]byte, 8192)
	_ = listen.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		n, from, err := listen.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("no BYE at the Contact address: %v", err)
		}
		msg := string(buf[:n])
		if !strings.HasPrefix(msg, "BYE ") {
			continue
		}
		if from != srv.Addr("udp") {
			t.Errorf("BYE came from %v, want sipagent's listener %v", from, srv.Addr("udp"))
		}
		res := strings.Replace(strings.SplitN(msg, "\r\n\r\n", 2)[0], strings.SplitN(msg, "\r\n", 2)[0], "SIP/2.0 200 OK", 1)
		if _, err := listen.WriteToUDPAddrPort([]byte(res+"\r\nContent-Length: 0\r\n\r\n"), from); err != nil {
			t.Fatal(err)
		}
		break
	}
	waitIdle(t, srv)
}
