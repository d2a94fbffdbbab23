package sdp

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	psdp "github.com/pion/sdp/v3"
)

func TestPtimeOf(t *testing.T) {
	a := psdp.NewAttribute
	for _, tc := range []struct {
		name           string
		session, media []psdp.Attribute
		want           time.Duration
		named          bool
	}{
		{"none", nil, nil, DefaultPtime, false},
		{"20", nil, []psdp.Attribute{a("ptime", "20")}, 20 * time.Millisecond, true},
		{"30", nil, []psdp.Attribute{a("ptime", "30")}, 30 * time.Millisecond, true},
		{"10", nil, []psdp.Attribute{a("ptime", "10")}, 10 * time.Millisecond, true},
		{"60", nil, []psdp.Attribute{a("ptime", "60")}, 60 * time.Millisecond, true},
		{"fraction", nil, []psdp.Attribute{a("ptime", "20.0")}, 20 * time.Millisecond, true},
		{"rounded", nil, []psdp.Attribute{a("ptime", "29.6")}, 30 * time.Millisecond, true},
		{"too long", nil, []psdp.Attribute{a("ptime", "200")}, DefaultPtime, true},
		{"too short", nil, []psdp.Attribute{a("ptime", "5")}, DefaultPtime, true},
		{"garbage", nil, []psdp.Attribute{a("ptime", "abc")}, DefaultPtime, true},
		{"NaN", nil, []psdp.Attribute{a("ptime", "NaN")}, DefaultPtime, true},
		{"Inf", nil, []psdp.Attribute{a("ptime", "Inf")}, DefaultPtime, true},
		{"session level", []psdp.Attribute{a("ptime", "30")}, nil, 30 * time.Millisecond, true},
		{"media wins", []psdp.Attribute{a("ptime", "30")}, []psdp.Attribute{a("ptime", "40")}, 40 * time.Millisecond, true},
		{"maxptime lowers the default", nil, []psdp.Attribute{a("maxptime", "10")}, 10 * time.Millisecond, false},
		{"maxptime above the default", nil, []psdp.Attribute{a("maxptime", "150")}, DefaultPtime, false},
		{"ptime wins over maxptime", nil, []psdp.Attribute{a("ptime", "30"), a("maxptime", "10")}, 30 * time.Millisecond, true},
	} {
		got, named := ptimeOf(tc.session, tc.media)
		if got != tc.want || named != tc.named {
			t.Errorf("%s: ptimeOf = %v %v, want %v %v", tc.name, got, named, tc.want, tc.named)
		}
	}
}

func TestRemoteOf(t *testing.T) {
	conn := func(addrType, addr string) *psdp.ConnectionInformation {
		return &psdp.ConnectionInformation{NetworkType: "IN", AddressType: addrType, Address: &psdp.Address{Address: addr}}
	}
	md := func(c *psdp.ConnectionInformation) *psdp.MediaDescription {
		return &psdp.MediaDescription{MediaName: psdp.MediaName{Media: "audio", Port: psdp.RangedPort{Value: 4000}}, ConnectionInformation: c}
	}
	for _, tc := range []struct {
		name           string
		session, media *psdp.ConnectionInformation
		want           string
		err            error
	}{
		{"session", conn("IP4", "192.0.2.1"), nil, "192.0.2.1:4000", nil},
		{"media wins", conn("IP4", "192.0.2.1"), conn("IP4", "192.0.2.2"), "192.0.2.2:4000", nil},
		{"ipv6", nil, conn("IP6", "2001:db8::2"), "[2001:db8::2]:4000", nil},
		{"v4-mapped ipv6 is unmapped", nil, conn("IP6", "::ffff:192.0.2.3"), "192.0.2.3:4000", nil},
		{"hold", conn("IP4", "0.0.0.0"), nil, "0.0.0.0:4000", nil},
		{"hold ipv6", conn("IP6", "::"), nil, "[::]:4000", nil},
		{"none", nil, nil, "", ErrMalformed},
		{"no address", &psdp.ConnectionInformation{NetworkType: "IN", AddressType: "IP4"}, nil, "", ErrMalformed},
		{"host name", conn("IP4", "pbx.example.com"), nil, "", ErrAddress},
		{"zone", conn("IP6", "fe80::1%eth0"), nil, "", ErrAddress},
		{"family mismatch", conn("IP6", "192.0.2.1"), nil, "", ErrAddress},
		{"multicast with ttl", conn("IP4", "224.2.1.1/127"), nil, "", ErrAddress},
	} {
		sd := &psdp.SessionDescription{ConnectionInformation: tc.session}
		got, err := remoteOf(sd, md(tc.media))
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("%s: err = %v, want %v", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || got != netip.MustParseAddrPort(tc.want) {
			t.Errorf("%s: remoteOf = %v, %v; want %s", tc.name, got, err, tc.want)
		}
	}
}

func TestConnection(t *testing.T) {
	for in, want := range map[string][2]string{
		"":                 {"IP4", "0.0.0.0"},
		"192.0.2.1":        {"IP4", "192.0.2.1"},
		"::ffff:192.0.2.1": {"IP4", "192.0.2.1"},
		"2001:db8::1":      {"IP6", "2001:db8::1"},
		"fe80::1%eth0":     {"IP6", "fe80::1"},
	} {
		var addr netip.Addr
		if in != "" {
			addr = netip.MustParseAddr(in)
		}
		if typ, a := connection(addr); typ != want[0] || a != want[1] {
			t.Errorf("connection(%q) = %s %s, want %s %s", in, typ, a, want[0], want[1])
		}
	}
}

func TestSameFamily(t *testing.T) {
	a := netip.MustParseAddr
	for _, tc := range []struct {
		local, remote netip.Addr
		want          bool
	}{
		{a("192.0.2.1"), a("192.0.2.2"), true},
		{a("2001:db8::1"), a("2001:db8::2"), true},
		{a("192.0.2.1"), a("2001:db8::2"), false},
		{a("2001:db8::1"), a("192.0.2.2"), false},
		{a("::ffff:192.0.2.1"), a("192.0.2.2"), true},
		{a("192.0.2.1"), a("::"), true},
		{a("2001:db8::1"), a("0.0.0.0"), true},
		{netip.Addr{}, a("2001:db8::2"), true},
	} {
		if got := sameFamily(tc.local, tc.remote); got != tc.want {
			t.Errorf("sameFamily(%v, %v) = %v", tc.local, tc.remote, got)
		}
	}
}

func TestUsername(t *testing.T) {
	for in, want := range map[string]string{"": "sipagent", "alice": "alice", "a b": "sipagent", "é": "sipagent"} {
		if got := username(in); got != want {
			t.Errorf("username(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMediaHeld(t *testing.T) {
	for d, want := range map[Direction]bool{SendRecv: false, SendOnly: false, RecvOnly: true, Inactive: true} {
		if got := (Media{Direction: d}).Held(); got != want {
			t.Errorf("Held() with %s = %v", d, got)
		}
	}
}
