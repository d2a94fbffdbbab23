package sip_test

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sipagent/sipagent/agent"
)

const offerSendrecv = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
	"m=audio 29000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"

// reinvite sends an in-dialog INVITE with an SDP offer.
func (u *rawUAC) reinvite(cseq int, toTag string) {
	u.t.Helper()
	u.send(u.head("INVITE", cseq, toTag) + fmt.Sprintf("Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", len(offerSendrecv), offerSendrecv))
}

func newRawUAC(t *testing.T, target string, callID string) *rawUAC {
	t.Helper()
	addr, err := net.ResolveUDPAddr("udp", target)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialUDP("udp", nil, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &rawUAC{t: t, conn: conn, target: target, callID: callID}
}

func toTagOf(t *testing.T, res string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^To: .*(;tag=[^;\r\n]+)`).FindStringSubmatch(res)
	if m == nil {
		t.Fatalf("response without To tag:\n%s", res)
	}
	return m[1]
}

// A re-INVITE that arrives before the ACK of the first INVITE's 2xx
// finds that INVITE still in progress: 500 with Retry-After (RFC 3261
// s.14.2), and the call goes on once the ACK comes.
func TestReInviteBeforeAck(t *testing.T) {
	rec := newRecorder()
	srv := startServer(t, map[string]agent.Agent{"rec": rec})
	uac := newRawUAC(t, srv.Addr("udp").String(), "reinvite-before-ack")
	tag := toTagOf(t, uac.invite())
	uac.reinvite(2, tag)
	res := uac.read("500")
	if !strings.Contains(res, "Retry-After:") {
		t.Errorf("500 without Retry-After:\n%s", res)
	}
	uac.send(uac.head("ACK", 1, tag) + "Content-Length: 0\r\n\r\n")
	rec.waitStarted(t)
	uac.send(uac.head("BYE", 3, tag) + "Content-Length: 0\r\n\r\n")
	uac.read("200")
	waitIdle(t, srv)
}

// Two re-INVITEs at once: one is answered 200, the other refused (491,
// or 500 if its lower CSeq is handled second), and the call survives the
// refused one: it is not hung up for an ACK that never comes.
func TestOverlappingReInvites(t *testing.T) {
	rec := newRecorder()
	srv := startServer(t, map[string]agent.Agent{"rec": rec})
	uac := newRawUAC(t, srv.Addr("udp").String(), "overlapping-reinvites")
	tag := toTagOf(t, uac.invite())
	uac.send(uac.head("ACK", 1, tag) + "Content-Length: 0\r\n\r\n")
	rec.waitStarted(t)

	uac.reinvite(2, tag)
	uac.reinvite(3, tag)
	var okCSeq string
	refused := 0
	deadline := time.Now().Add(5 * time.Second)
	for okCSeq == "" || refused == 0 {
		msg, ok := uac.poll(time.Until(deadline))
		if !ok {
			t.Fatalf("got 200 for CSeq %q and %d refusals; want one of each", okCSeq, refused)
		}
		switch {
		case strings.HasPrefix(msg, "SIP/2.0 200"):
			okCSeq = regexp.MustCompile(`(?m)^CSeq: (\d+) INVITE`).FindStringSubmatch(msg)[1]
		case strings.HasPrefix(msg, "SIP/2.0 491"), strings.HasPrefix(msg, "SIP/2.0 500"):
			refused++
		}
	}
	var cseq int
	_, _ = fmt.Sscan(okCSeq, &cseq)
	uac.send(uac.head("ACK", cseq, tag) + "Content-Length: 0\r\n\r\n")
	// The 200 is not resent after its ACK, and no BYE comes: the call
	// outlives 64*T1 (3.2 s with the test timers in main_test.go).
	end := time.Now().Add(64*sip.T1 + time.Second)
	for time.Now().Before(end) {
		if msg, ok := uac.poll(time.Until(end)); ok && strings.HasPrefix(msg, "BYE ") {
			t.Fatalf("the call was ended:\n%s", msg)
		}
	}
	if srv.ActiveCalls() != 1 {
		t.Fatalf("%d calls active, want 1", srv.ActiveCalls())
	}
	uac.send(uac.head("BYE", 4, tag) + "Content-Length: 0\r\n\r\n")
	uac.read("200")
	waitIdle(t, srv)
}

// A server that closes while a call rings still answers the INVITE: 503
// with the To tag its 180 carried (RFC 3261 s.13.3.1).
func TestCloseWhileRinging(t *testing.T) {
	rec := newRecorder()
	srv := startServer(t, map[string]agent.Agent{"rec": rec}, withRingTime(30*time.Second))
	uac := newRawUAC(t, srv.Addr("udp").String(), "close-while-ringing")
	sdp := offerSendrecv
	uac.send(uac.head("INVITE", 1, "") + fmt.Sprintf("Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", len(sdp), sdp))
	ringing := uac.read("180")
	closed := make(chan struct{})
	go func() { _ = srv.Close(); close(closed) }()
	res := uac.read("503")
	if toTagOf(t, res) != toTagOf(t, ringing) {
		t.Errorf("503 To tag %s differs from the 180's %s", toTagOf(t, res), toTagOf(t, ringing))
	}
	// The ACK of a non-2xx belongs to the INVITE's transaction and
	// carries its branch (RFC 3261 s.17.1.1.3).
	ack := strings.Replace(uac.head("ACK", 1, toTagOf(t, res)), "-ACK-1;", "-INVITE-1;", 1)
	uac.send(ack + "Content-Length: 0\r\n\r\n")
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
}
