package sip

import (
	"net/netip"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

func parseResponse(t *testing.T, text string) *sip.Response {
	t.Helper()
	msg, err := sip.ParseMessage([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	res, ok := msg.(*sip.Response)
	if !ok {
		t.Fatalf("not a response: %T", msg)
	}
	return res
}

const okHead = "SIP/2.0 200 OK\r\n" +
	"Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1;rport=40123;received=198.51.100.7\r\n" +
	"From: <sip:agent@example.com>;tag=a\r\nTo: <sip:agent@example.com>;tag=b\r\n" +
	"Call-ID: c1\r\nCSeq: 2 REGISTER\r\n"

func TestViaSeen(t *testing.T) {
	tests := []struct {
		via  string
		want string
		ok   bool
	}{
		{"SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1;rport=40123;received=198.51.100.7", "198.51.100.7:40123", true},
		{"SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1;rport", "10.0.0.5:5060", true},
		{"SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1;received=192.0.2.1", "192.0.2.1:5060", true},
		{"SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1;rport=99999", "", false},
		{"SIP/2.0/UDP host.example:5060;branch=z9hG4bK1", "", false},
	}
	for _, tt := range tests {
		res := parseResponse(t, "SIP/2.0 200 OK\r\nVia: "+tt.via+"\r\nCall-ID: x\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n")
		got, ok := viaSeen(res)
		if ok != tt.ok || (ok && got.String() != tt.want) {
			t.Errorf("%s: got %v %v, want %s %v", tt.via, got, ok, tt.want, tt.ok)
		}
	}
}

func TestGrantedExpiry(t *testing.T) {
	ours := sip.Uri{Scheme: "sip", User: "agent", Host: "10.0.0.5", Port: 5060}
	tests := []struct {
		name, headers string
		want          time.Duration
	}{
		{"contact param wins", "Contact: <sip:other@10.0.0.9:5060>;expires=30, <sip:agent@10.0.0.5:5060>;expires=120\r\nExpires: 600\r\n", 120 * time.Second},
		{"expires header", "Contact: <sip:agent@10.0.0.5>\r\nExpires: 300\r\n", 300 * time.Second},
		{"nothing: what we asked", "", 600 * time.Second},
		{"garbage ignored", "Contact: <sip:agent@10.0.0.5:5060>;expires=soon\r\nExpires: -1\r\n", 600 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &registration{contact: ours, expires: 600 * time.Second}
			res := parseResponse(t, okHead+tt.headers+"Content-Length: 0\r\n\r\n")
			if got := r.granted(res); got != tt.want {
				t.Errorf("granted = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMinExpiresAndRetryAfter(t *testing.T) {
	res := parseResponse(t, "SIP/2.0 423 Interval Too Brief\r\nVia: SIP/2.0/UDP h:1;branch=z9hG4bK1\r\nCall-ID: x\r\nCSeq: 1 REGISTER\r\nMin-Expires: 3600\r\nRetry-After: 99999999 ;duration=10\r\nContent-Length: 0\r\n\r\n")
	if d, ok := minExpires(res); !ok || d != time.Hour {
		t.Errorf("minExpires = %v %v", d, ok)
	}
	if d := retryAfter(res); d != time.Hour {
		t.Errorf("retryAfter = %v, want capped at 1h", d)
	}
}

func TestBackoffGrowsWithJitterAndCaps(t *testing.T) {
	b := backoff{min: time.Second, max: 16 * time.Second}
	nominal := []time.Duration{1, 2, 4, 8, 16, 16, 16}
	for i, n := range nominal {
		d := b.next()
		if lo, hi := n*time.Second/2, n*time.Second; d < lo || d > hi {
			t.Errorf("wait %d = %v, want within [%v, %v]", i, d, lo, hi)
		}
	}
	b.reset()
	if d := b.next(); d > time.Second {
		t.Errorf("after reset: %v", d)
	}
}

func TestRefreshLeavesMargin(t *testing.T) {
	for _, g := range []time.Duration{2 * time.Second, time.Minute, 600 * time.Second, time.Hour} {
		r := refreshIn(g)
		if r >= g || r < g/2 {
			t.Errorf("refreshIn(%v) = %v", g, r)
		}
	}
}

func TestAccountMatch(t *testing.T) {
	as := accountSet{regs: []*registration{
		{acct: Account{Name: "twilio", Username: "agent", Registrar: sip.Uri{Host: "example.sip.twilio.com"}}, contactUser: "agent"},
		{acct: Account{Name: "pbx", Username: "agent", Registrar: sip.Uri{Host: "pbx.example"}}, contactUser: "agent-pbx"},
	}}
	to := func(u, h string) *sip.ToHeader { return &sip.ToHeader{Address: sip.Uri{User: u, Host: h}} }
	tests := []struct {
		ruri sip.Uri
		to   *sip.ToHeader
		want string
	}{
		{sip.Uri{User: "agent-pbx", Host: "10.0.0.5"}, to("x", "y"), "pbx"},
		{sip.Uri{User: "agent", Host: "10.0.0.5"}, to("x", "y"), "twilio"},
		{sip.Uri{User: "sales", Host: "10.0.0.5"}, to("agent", "PBX.example"), "pbx"},
		{sip.Uri{User: "sales", Host: "10.0.0.5"}, to("agent", "elsewhere"), ""},
	}
	for _, tt := range tests {
		got := ""
		if r := as.match(tt.ruri, tt.to); r != nil {
			got = r.acct.Name
		}
		if got != tt.want {
			t.Errorf("match(%s, %s) = %q, want %q", tt.ruri.String(), tt.to.Address.String(), got, tt.want)
		}
	}
	as.regs[0].registrarIP = netip.MustParseAddr("192.0.2.1")
	if n := as.registrarSource(netip.MustParseAddr("192.0.2.1")); n != "twilio" {
		t.Errorf("registrarSource = %q", n)
	}
	if n := as.registrarSource(netip.MustParseAddr("192.0.2.2")); n != "" {
		t.Errorf("registrarSource of a stranger = %q", n)
	}
}

// FuzzRegisterResponse feeds the registration client's readers of a
// registrar's answer (granted expiry, Via received/rport, Min-Expires,
// Retry-After) with arbitrary responses.
func FuzzRegisterResponse(f *testing.F) {
	f.Add([]byte(okHead + "Contact: <sip:agent@10.0.0.5:5060>;expires=120\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n"))
	f.Add([]byte("SIP/2.0 423 Interval Too Brief\r\nVia: SIP/2.0/UDP h:1;branch=z9hG4bK1;rport=0;received=::1\r\nCall-ID: x\r\nCSeq: 1 REGISTER\r\nMin-Expires: 99999999999\r\nRetry-After: -5\r\nContent-Length: 0\r\n\r\n"))
	f.Add([]byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP [2001:db8::1]:5061;branch=z9hG4bK1;received=2001:db8::2;rport=1\r\nContact: *\r\nCall-ID: x\r\nCSeq: 1 REGISTER\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := sip.ParseMessage(data)
		if err != nil {
			return
		}
		res, ok := msg.(*sip.Response)
		if !ok {
			return
		}
		r := &registration{contact: sip.Uri{Scheme: "sip", User: "agent", Host: "10.0.0.5", Port: 5060}, expires: 600 * time.Second}
		if g := r.granted(res); g <= 0 {
			t.Fatalf("granted %v", g)
		}
		if ap, ok := viaSeen(res); ok && (!ap.IsValid() || ap.Port() == 0) {
			t.Fatalf("viaSeen %v", ap)
		}
		if d, ok := minExpires(res); ok && (d <= 0 || d > (1<<20)*time.Second) {
			t.Fatalf("minExpires %v", d)
		}
		if d := retryAfter(res); d < 0 || d > time.Hour {
			t.Fatalf("retryAfter %v", d)
		}
	})
}
