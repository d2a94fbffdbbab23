package sdp

import (
	"testing"

	psdp "github.com/pion/sdp/v3"
)

func TestDirection(t *testing.T) {
	for _, tc := range []struct {
		d                       Direction
		valid, sends, receives  bool
		reverse, withoutSending Direction
	}{
		{SendRecv, true, true, true, SendRecv, RecvOnly},
		{SendOnly, true, true, false, RecvOnly, Inactive},
		{RecvOnly, true, false, true, SendOnly, RecvOnly},
		{Inactive, true, false, false, Inactive, Inactive},
		{"", false, false, false, SendRecv, Inactive},
		{"SENDRECV", false, false, false, SendRecv, Inactive},
	} {
		if got := tc.d.Valid(); got != tc.valid {
			t.Errorf("%q.Valid() = %v", tc.d, got)
		}
		if got := tc.d.Sends(); got != tc.sends {
			t.Errorf("%q.Sends() = %v", tc.d, got)
		}
		if got := tc.d.Receives(); got != tc.receives {
			t.Errorf("%q.Receives() = %v", tc.d, got)
		}
		if got := tc.d.Reverse(); got != tc.reverse {
			t.Errorf("%q.Reverse() = %q, want %q", tc.d, got, tc.reverse)
		}
		if got := tc.d.withoutSend(); got != tc.withoutSending {
			t.Errorf("%q.withoutSend() = %q, want %q", tc.d, got, tc.withoutSending)
		}
	}
}

func TestDirectionOf(t *testing.T) {
	attrs := func(kv ...string) []psdp.Attribute {
		var out []psdp.Attribute
		for _, k := range kv {
			out = append(out, psdp.NewPropertyAttribute(k))
		}
		return out
	}
	for _, tc := range []struct {
		name           string
		session, media []psdp.Attribute
		want           Direction
	}{
		{"none", nil, nil, SendRecv},
		{"session only", attrs("inactive"), attrs("rtcp-mux"), Inactive},
		{"media wins", attrs("inactive"), attrs("sendonly"), SendOnly},
		{"first of several", nil, attrs("recvonly", "sendrecv"), RecvOnly},
		{"value is not a direction", nil, []psdp.Attribute{psdp.NewAttribute("sendonly", "x")}, SendRecv},
		{"case matters", nil, attrs("SendOnly"), SendRecv},
	} {
		if got := directionOf(tc.session, tc.media); got != tc.want {
			t.Errorf("%s: directionOf = %q, want %q", tc.name, got, tc.want)
		}
	}
}
