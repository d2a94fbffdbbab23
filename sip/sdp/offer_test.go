package sdp

import (
	"slices"
	"testing"

	"github.com/sipagent/sipagent/media"
)

func TestOffer(t *testing.T) {
	g722 := media.Codec{Name: "G722", PayloadType: 9, ClockRate: 8000}
	dyn101 := media.Codec{Name: "X-101", PayloadType: 101, ClockRate: 8000}
	for _, tc := range []struct {
		name     string
		prefs    []media.Codec
		local    Local
		dir      Direction
		formats  []string
		rtpmaps  []string
		wantDir  Direction
		addrType string
	}{
		{"default codecs", nil, local4, SendRecv,
			[]string{"0", "8", "101"}, []string{"0 PCMU/8000", "8 PCMA/8000", "101 telephone-event/8000"}, SendRecv, "IP4"},
		{"PCMA first, hold", []media.Codec{media.PCMA, media.PCMU}, local4, SendOnly,
			[]string{"8", "0", "101"}, []string{"8 PCMA/8000", "0 PCMU/8000", "101 telephone-event/8000"}, SendOnly, "IP4"},
		{"inactive, ipv6", []media.Codec{media.PCMU}, local6, Inactive,
			[]string{"0", "101"}, []string{"0 PCMU/8000", "101 telephone-event/8000"}, Inactive, "IP6"},
		{"invalid direction", []media.Codec{media.PCMU, media.PCMU}, local4, "sideways",
			[]string{"0", "101"}, []string{"0 PCMU/8000", "101 telephone-event/8000"}, SendRecv, "IP4"},
		{"101 taken", []media.Codec{media.PCMU, dyn101, g722}, local4, SendRecv,
			[]string{"0", "101", "9", "96"}, []string{"0 PCMU/8000", "101 X-101/8000", "9 G722/8000", "96 telephone-event/8000"}, SendRecv, "IP4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sd := unmarshal(t, Offer(tc.prefs, tc.local, tc.dir))
			if sd.Origin.SessionID >= 1<<63 || sd.Origin.SessionVersion != tc.local.Version || sd.Origin.AddressType != tc.addrType {
				t.Errorf("o= %+v", sd.Origin)
			}
			if ci := sd.ConnectionInformation; ci == nil || ci.AddressType != tc.addrType || ci.Address.Address != tc.local.Addr.String() {
				t.Errorf("c= %v", ci)
			}
			if string(sd.SessionName) != "-" || len(sd.TimeDescriptions) != 1 {
				t.Errorf("s=%q t=%v", sd.SessionName, sd.TimeDescriptions)
			}
			if len(sd.MediaDescriptions) != 1 {
				t.Fatalf("%d m= lines", len(sd.MediaDescriptions))
			}
			md := sd.MediaDescriptions[0]
			if md.MediaName.Media != "audio" || md.MediaName.Port.Value != tc.local.Port || proto(md.MediaName) != "RTP/AVP" {
				t.Errorf("m=%v", md.MediaName)
			}
			if !slices.Equal(md.MediaName.Formats, tc.formats) {
				t.Errorf("formats %v, want %v", md.MediaName.Formats, tc.formats)
			}
			if got := attrsWithKey(md.Attributes, "rtpmap"); !slices.Equal(got, tc.rtpmaps) {
				t.Errorf("rtpmap %q, want %q", got, tc.rtpmaps)
			}
			te := tc.formats[len(tc.formats)-1]
			if got := attrsWithKey(md.Attributes, "fmtp"); !slices.Equal(got, []string{te + " 0-16"}) {
				t.Errorf("fmtp %q", got)
			}
			if v, _ := md.Attribute("ptime"); v != "20" {
				t.Errorf("a=ptime:%q", v)
			}
			if got := directionOf(sd.Attributes, md.Attributes); got != tc.wantDir {
				t.Errorf("direction %s, want %s", got, tc.wantDir)
			}
		})
	}
}

func TestFreePayloadType(t *testing.T) {
	var all []rtpFormat
	for pt := 96; pt <= 127; pt++ {
		all = append(all, rtpFormat{pt: uint8(pt)})
	}
	if got := freePayloadType(all); got != -1 {
		t.Errorf("freePayloadType(all dynamic) = %d", got)
	}
	if got := freePayloadType(all[1:]); got != 96 {
		t.Errorf("freePayloadType(96 free) = %d", got)
	}
	if got := freePayloadType(nil); got != 101 {
		t.Errorf("freePayloadType(nil) = %d", got)
	}
}

func BenchmarkOffer(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Offer(nil, local4, SendRecv)
	}
}
