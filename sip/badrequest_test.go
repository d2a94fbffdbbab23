package sip

import (
	"net"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

const testInvite = "INVITE sip:rec@127.0.0.1:5060 SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1;rport\r\n" +
	"Max-Forwards: 70\r\n" +
	"From: \"Caller\" <sip:caller@127.0.0.1:5070>;tag=1928301774\r\n" +
	"To: <sip:rec@127.0.0.1:5060>\r\n" +
	"Call-ID: a84b4c76e66710@127.0.0.1\r\n" +
	"CSeq: 314159 INVITE\r\n" +
	"Contact: <sip:caller@127.0.0.1:5070>\r\n" +
	"User-Agent: test\r\n" +
	"Content-Type: application/sdp\r\n" +
	"Content-Length: 202\r\n\r\n" +
	"v=0\r\no=caller 2890844526 2890844526 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
	"m=audio 49170 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n" +
	"a=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n"

func TestBadRequest(t *testing.T) {
	spoil := func(old, new string) string { return strings.Replace(testInvite, old, new, 1) }
	for _, tc := range []struct {
		name string
		data string
		ok   bool
	}{
		{"bad header", spoil("Max-Forwards: 70", "Max-Forwards: x"), true},
		{"compact forms", "OPTIONS sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\nf: <sip:a@b>;tag=1\r\nt: <sip:b@b>\r\ni: x\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n", true},
		{"response", "SIP/2.0 200 OK\r\n" + testInvite[strings.Index(testInvite, "\r\n")+2:], false},
		{"ACK", spoil("INVITE sip", "ACK sip"), false},
		{"ACK by CSeq", spoil("314159 INVITE", "314159 ACK"), false},
		{"no Via", spoil("Via:", "X-Via:"), false},
		{"no CSeq", spoil("CSeq:", "X-CSeq:"), false},
		{"control character", spoil("tag=1928301774", "tag=19283\n01774"), false},
		{"long line", spoil("tag=1928301774", "tag="+strings.Repeat("1", maxEchoedLine)), false},
		{"one line", "INVITE sip:a@b SIP/2.0", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := badRequest(tc.data)
			if !tc.ok {
				if b != nil {
					t.Fatalf("answered:\n%s", b)
				}
				return
			}
			m, err := sip.ParseMessage(b)
			if err != nil {
				t.Fatalf("answer does not parse: %v\n%s", err, b)
			}
			res, ok := m.(*sip.Response)
			if !ok || res.StatusCode != 400 {
				t.Fatalf("answer is not a 400:\n%s", b)
			}
			if res.Via() == nil || res.From() == nil || res.CallID() == nil || res.CSeq() == nil {
				t.Errorf("answer lacks a header:\n%s", b)
			}
			if tag, _ := res.To().Params.Get("tag"); tag == "" {
				t.Errorf("To has no tag:\n%s", b)
			}
		})
	}
}

// BenchmarkRecordingConn compares what recordingConn adds to every
// datagram (remember) with what sipgo does with it anyway (parse).
func BenchmarkRecordingConn(b *testing.B) {
	data := []byte(testInvite)
	src := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5070}
	b.Run("remember", func(b *testing.B) {
		c := &recordingConn{}
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			c.remember(data, src)
		}
	})
	b.Run("sipgo-parse", func(b *testing.B) {
		p := sip.NewParser()
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := p.ParseSIP(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// FuzzBadRequest: whatever arrives, badRequest never panics, and what it
// sends back is a well-formed 400 that echoes nothing that could smuggle
// another header or message (no bare CR or LF inside a line).
func FuzzBadRequest(f *testing.F) {
	f.Add(testInvite)
	f.Add(strings.Replace(testInvite, "SIP/2.0\r\n", "SIP/2.0 \r\n", 1))
	f.Add("OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nFrom: <sip:a>;tag=1\r\nTo: <sip:b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n")
	f.Add("garbage\r\n\r\n")
	f.Fuzz(func(t *testing.T, data string) {
		res := badRequest(data)
		if res == nil {
			return
		}
		msg, err := sip.NewParser().ParseSIP(res)
		if err != nil {
			t.Fatalf("badRequest built an unparseable response: %v\n%q", err, res)
		}
		r, ok := msg.(*sip.Response)
		if !ok || r.StatusCode != 400 {
			t.Fatalf("badRequest built %T %q", msg, res)
		}
		head, _, _ := strings.Cut(string(res), "\r\n\r\n")
		for _, line := range strings.Split(head, "\r\n") {
			if strings.ContainsAny(line, "\r\n") {
				t.Fatalf("line with a bare CR or LF: %q", line)
			}
		}
	})
}
