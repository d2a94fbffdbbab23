package sdp

import (
	"slices"
	"testing"

	psdp "github.com/pion/sdp/v3"

	"github.com/sipagent/sipagent/media"
)

func mediaWith(formats []string, attrs ...psdp.Attribute) *psdp.MediaDescription {
	return &psdp.MediaDescription{
		MediaName:  psdp.MediaName{Media: "audio", Port: psdp.RangedPort{Value: 1}, Protos: []string{"RTP", "AVP"}, Formats: formats},
		Attributes: attrs,
	}
}

func rtpmap(v string) psdp.Attribute { return psdp.NewAttribute("rtpmap", v) }

func TestFormatsOf(t *testing.T) {
	md := mediaWith([]string{"0", "18", "96", "97", "98", "99", "100", "128", "x", "8", "2", "101"},
		rtpmap("96 opus/48000/2"),
		rtpmap("97  speex/8000 "),
		rtpmap("98 PCMU"),         // no clock rate: skipped
		rtpmap("99 PCMU/0"),       // zero clock rate: skipped
		rtpmap("100 PCMU/8000/0"), // zero channels: skipped
		rtpmap("8 pcma/8000"),
		rtpmap("101 telephone-event/8000"),
	)
	var got []string
	for _, f := range formatsOf(md) {
		got = append(got, f.String())
	}
	want := []string{"0 PCMU/8000", "18 G729/8000", "96 opus/48000/2", "97 speex/8000", "8 pcma/8000", "101 telephone-event/8000"}
	if !slices.Equal(got, want) {
		t.Errorf("formatsOf =\n%q, want\n%q", got, want)
	}
}

func TestFormatIs(t *testing.T) {
	for _, tc := range []struct {
		f    rtpFormat
		c    media.Codec
		want bool
	}{
		{rtpFormat{0, "PCMU", 8000, 0}, media.PCMU, true},
		{rtpFormat{97, "pcmu", 8000, 1}, media.PCMU, true},
		{rtpFormat{97, "PCMU", 8000, 2}, media.PCMU, false},
		{rtpFormat{97, "PCMU", 16000, 0}, media.PCMU, false},
		{rtpFormat{8, "PCMA", 8000, 0}, media.PCMU, false},
	} {
		if got := tc.f.is(tc.c); got != tc.want {
			t.Errorf("%v.is(%v) = %v", tc.f, tc.c, got)
		}
	}
}

func TestChoose(t *testing.T) {
	formats := []rtpFormat{{96, "opus", 48000, 2}, {8, "PCMA", 8000, 0}, {97, "PCMU", 8000, 0}, {0, "PCMU", 8000, 0}}
	c, f, ok := chooseByPrefs(formats, []media.Codec{media.PCMU, media.PCMA})
	if !ok || c != media.PCMU || f.pt != 97 {
		t.Errorf("chooseByPrefs = %v %v %v, want PCMU at the first offered type, 97", c, f, ok)
	}
	c, f, ok = chooseByFormats(formats, []media.Codec{media.PCMU, media.PCMA})
	if !ok || c != media.PCMA || f.pt != 8 {
		t.Errorf("chooseByFormats = %v %v %v, want PCMA 8", c, f, ok)
	}
	if _, _, ok := chooseByPrefs(formats[:1], media.Codecs); ok {
		t.Errorf("chooseByPrefs found a codec in opus only")
	}
}

func TestChooseTelephoneEvent(t *testing.T) {
	fmtp := func(v string) psdp.Attribute { return psdp.NewAttribute("fmtp", v) }
	te := func(pt uint8, clock uint32) rtpFormat { return rtpFormat{pt, "telephone-event", clock, 0} }
	for _, tc := range []struct {
		name    string
		formats []rtpFormat
		attrs   []psdp.Attribute
		pt      int
		events  string
	}{
		{"none", []rtpFormat{{0, "PCMU", 8000, 0}}, nil, -1, ""},
		{"no fmtp means 0-15", []rtpFormat{te(101, 8000)}, nil, 101, "0-15"},
		{"0-16", []rtpFormat{te(101, 8000)}, []psdp.Attribute{fmtp("101 0-16")}, 101, "0-16"},
		{"events= prefix", []rtpFormat{te(101, 8000)}, []psdp.Attribute{fmtp("101 events=0-15")}, 101, "0-15"},
		{"wider list", []rtpFormat{te(101, 8000)}, []psdp.Attribute{fmtp("101 0-15,32-49,66,70")}, 101, "0-15"},
		{"other clock first", []rtpFormat{te(98, 48000), te(100, 8000)}, nil, 100, "0-15"},
		{"clock mismatch only", []rtpFormat{te(98, 48000)}, nil, -1, ""},
		{"nothing we handle, then a usable one", []rtpFormat{te(101, 8000), te(102, 8000)},
			[]psdp.Attribute{fmtp("101 32-63"), fmtp("102 0-9")}, 102, "0-9"},
		{"fmtp of another type", []rtpFormat{te(101, 8000)}, []psdp.Attribute{fmtp("100 32")}, 101, "0-15"},
		{"upper case", []rtpFormat{{101, "Telephone-Event", 8000, 0}}, nil, 101, "0-15"},
	} {
		pt, events := chooseTelephoneEvent(tc.formats, tc.attrs, 8000)
		if pt != tc.pt || events != tc.events {
			t.Errorf("%s: = %d %q, want %d %q", tc.name, pt, events, tc.pt, tc.events)
		}
	}
}

func TestEvents(t *testing.T) {
	for _, tc := range []struct {
		list string
		mask uint32
		text string
	}{
		{"0-15", 0xffff, "0-15"},
		{"0-16", 0x1ffff, "0-16"},
		{" 0 - 3 , 5", 0x2f, "0-3,5"},
		{"16", 1 << 16, "16"},
		{"0-11,16,66", 0x10fff, "0-11,16"},
		{"31-40", 1 << 31, "31"},
		{"5-3", 0, ""},
		{"x,-1,3-y,,", 0, ""},
		{"300", 0, ""},
	} {
		mask := parseEvents(tc.list)
		if mask&0xffffffff != tc.mask {
			t.Errorf("parseEvents(%q) = %#x, want %#x", tc.list, mask, tc.mask)
		}
		if got := formatEvents(tc.mask); got != tc.text {
			t.Errorf("formatEvents(%#x) = %q, want %q", tc.mask, got, tc.text)
		}
	}
	if got := formatEvents(0x80000001); got != "0,31" {
		t.Errorf("formatEvents ends = %q", got)
	}
}
