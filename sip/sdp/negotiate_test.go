package sdp

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	psdp "github.com/pion/sdp/v3"

	"github.com/sipagent/sipagent/media"
)

// negotiateCase is an offer and what Negotiate must make of it.
type negotiateCase struct {
	name  string
	file  string      // offer in testdata
	edit  [][2]string // replacements applied to the offer
	offer string      // offer text, when not a file
	prefs []media.Codec
	local *Local // nil: local4

	want      Media
	chosen    int    // index of the m= line we take
	events    string // fmtp of telephone-event in the answer
	ptimeAttr string // a=ptime in the answer, "" for none
	exotic    bool   // the answer has m= lines pion/sdp cannot parse
}

func negotiateCases() []negotiateCase {
	pcmu := func(pt uint8, dtmf int, ptime time.Duration, remote string, dir Direction) Media {
		return Media{Codec: media.PCMU, PayloadType: pt, DTMFPayloadType: dtmf, Ptime: ptime,
			Remote: netip.MustParseAddrPort(remote), Direction: dir}
	}
	twilio := pcmu(0, 101, 20*time.Millisecond, "54.172.60.2:16582", SendRecv)
	withPtime := func(m Media, d time.Duration) Media { m.Ptime = d; return m }
	return []negotiateCase{
		{name: "twilio", file: "twilio.sdp", want: twilio, events: "0-16", ptimeAttr: "20"},
		{name: "twilio prefers PCMA", file: "twilio.sdp", prefs: []media.Codec{media.PCMA, media.PCMU},
			want:   Media{Codec: media.PCMA, PayloadType: 8, DTMFPayloadType: 101, Ptime: 20 * time.Millisecond, Remote: twilio.Remote, Direction: SendRecv},
			events: "0-16", ptimeAttr: "20"},
		{name: "twilio ptime 30", file: "twilio.sdp", edit: [][2]string{{"a=ptime:20", "a=ptime:30"}},
			want: withPtime(twilio, 30*time.Millisecond), events: "0-16", ptimeAttr: "30"},
		{name: "twilio ptime 10", file: "twilio.sdp", edit: [][2]string{{"a=ptime:20", "a=ptime:10"}},
			want: withPtime(twilio, 10*time.Millisecond), events: "0-16", ptimeAttr: "10"},
		{name: "twilio ptime 200 ignored", file: "twilio.sdp", edit: [][2]string{{"a=ptime:20", "a=ptime:200"}},
			want: twilio, events: "0-16", ptimeAttr: "20"},
		{name: "twilio ptime at session level", file: "twilio.sdp",
			edit: [][2]string{{"a=ptime:20\n", ""}, {"t=0 0", "t=0 0\na=ptime:30"}},
			want: withPtime(twilio, 30*time.Millisecond), events: "0-16", ptimeAttr: "30"},
		{name: "maxptime below the default", file: "sipp-uac.sdp", edit: [][2]string{{"PCMU/8000", "PCMU/8000\na=maxptime:10"}},
			want: pcmu(0, -1, 10*time.Millisecond, "127.0.0.1:6000", SendRecv)},
		{name: "zoiper", file: "zoiper.sdp",
			want: pcmu(0, 101, DefaultPtime, "192.168.1.10:52032", SendRecv), events: "0-16"},
		{name: "linphone media-level c=", file: "linphone.sdp",
			want: pcmu(0, 100, DefaultPtime, "203.0.113.20:7078", SendRecv), events: "0-15"},
		{name: "asterisk", file: "asterisk.sdp",
			want: pcmu(0, 101, 20*time.Millisecond, "198.51.100.7:17526", SendRecv), events: "0-16", ptimeAttr: "20"},
		{name: "baresip", file: "baresip.sdp",
			want: pcmu(0, 101, 20*time.Millisecond, "192.0.2.33:10938", SendRecv), events: "0-15", ptimeAttr: "20"},
		{name: "sipp uac", file: "sipp-uac.sdp",
			want: pcmu(0, -1, DefaultPtime, "127.0.0.1:6000", SendRecv)},
		{name: "ipv6", file: "ipv6.sdp", local: &local6,
			want: pcmu(0, 101, 20*time.Millisecond, "[2001:db8::10]:40000", SendRecv), events: "0-15", ptimeAttr: "20"},
		{name: "video refused", file: "video.sdp", chosen: 1,
			want: pcmu(0, 101, DefaultPtime, "192.0.2.44:7078", SendRecv), events: "0-16"},
		{name: "t38 refused", file: "t38.sdp", prefs: []media.Codec{media.PCMU, media.PCMA}, exotic: true,
			want: Media{Codec: media.PCMA, PayloadType: 8, DTMFPayloadType: -1, Ptime: DefaultPtime,
				Remote: netip.MustParseAddrPort("192.0.2.50:20000"), Direction: SendRecv}},
		{name: "session c= after t=", file: "session-c-after-t.sdp",
			want: pcmu(0, 101, DefaultPtime, "192.0.2.60:30000", SendRecv), events: "0-16"},
		{name: "hold sendonly", file: "hold-sendonly.sdp",
			want: pcmu(0, 101, 20*time.Millisecond, "198.51.100.7:17526", RecvOnly), events: "0-16", ptimeAttr: "20"},
		{name: "hold inactive at session level", file: "hold-inactive.sdp",
			want: pcmu(0, 101, DefaultPtime, "192.168.1.10:52032", Inactive), events: "0-16"},
		{name: "media-level direction wins", file: "hold-inactive.sdp", edit: [][2]string{{"0-16", "0-16\na=sendrecv"}},
			want: pcmu(0, 101, DefaultPtime, "192.168.1.10:52032", SendRecv), events: "0-16"},
		{name: "offer recvonly", file: "asterisk.sdp", edit: [][2]string{{"a=sendrecv", "a=recvonly"}},
			want: pcmu(0, 101, 20*time.Millisecond, "198.51.100.7:17526", SendOnly), events: "0-16", ptimeAttr: "20"},
		{name: "hold c=0.0.0.0", file: "hold-c0.sdp",
			want: pcmu(0, 101, DefaultPtime, "0.0.0.0:16384", RecvOnly), events: "0-15"},
		{name: "hold c=0.0.0.0 and inactive", file: "hold-c0.sdp", edit: [][2]string{{"0-15", "0-15\na=inactive"}},
			want: pcmu(0, 101, DefaultPtime, "0.0.0.0:16384", Inactive), events: "0-15"},
		{name: "dynamic PCMU", file: "dynamic-pcmu.sdp",
			want: pcmu(97, 98, DefaultPtime, "192.0.2.80:30000", SendRecv), events: "0-15"},
		{name: "telephone-event at 48000 only", file: "te-48k-only.sdp",
			want: pcmu(0, -1, DefaultPtime, "192.0.2.81:30002", SendRecv)},
		{name: "telephone-event events we do not handle", file: "twilio.sdp", edit: [][2]string{{"0-16", "32-63"}},
			want:      Media{Codec: media.PCMU, DTMFPayloadType: -1, Ptime: 20 * time.Millisecond, Remote: twilio.Remote, Direction: SendRecv},
			ptimeAttr: "20"},
		{name: "telephone-event partly ours", file: "twilio.sdp", edit: [][2]string{{"0-16", "0-11,16,32-63"}},
			want: twilio, events: "0-11,16", ptimeAttr: "20"},
		{name: "first audio over SRTP, second over RTP", offer: "v=0\no=- 1 1 IN IP4 192.0.2.9\ns=-\nc=IN IP4 192.0.2.9\nt=0 0\n" +
			"m=audio 5000 RTP/SAVP 0\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\n" +
			"m=audio 5002 RTP/AVP 0\n", chosen: 1,
			want: pcmu(0, -1, DefaultPtime, "192.0.2.9:5002", SendRecv)},
		{name: "RTP/AVPF", file: "sipp-uac.sdp", edit: [][2]string{{"RTP/AVP", "RTP/AVPF"}},
			want: pcmu(0, -1, DefaultPtime, "127.0.0.1:6000", SendRecv)},
		{name: "first audio with port 0 skipped", file: "video.sdp", edit: [][2]string{{"7078", "0"}}, chosen: 2,
			want: pcmu(0, -1, DefaultPtime, "192.0.2.44:7080", SendRecv)},
		{name: "CR-only line endings", offer: strings.ReplaceAll(mustReadTestdata("sipp-uac.sdp"), "\n", "\r"),
			want: pcmu(0, -1, DefaultPtime, "127.0.0.1:6000", SendRecv)},
	}
}

func TestNegotiate(t *testing.T) {
	for _, tc := range negotiateCases() {
		offer := tc.offer
		if tc.file != "" {
			offer = readTestdata(t, tc.file)
		}
		for _, e := range tc.edit {
			if !strings.Contains(offer, e[0]) {
				t.Fatalf("%s: edit %q not in offer", tc.name, e[0])
			}
			offer = strings.ReplaceAll(offer, e[0], e[1])
		}
		for variant, body := range lineVariants(offer) {
			t.Run(tc.name+"/"+variant, func(t *testing.T) {
				local := local4
				if tc.local != nil {
					local = *tc.local
				}
				answer, m, err := Negotiate([]byte(body), tc.prefs, local)
				if err != nil {
					t.Fatalf("Negotiate: %v", err)
				}
				if m != tc.want {
					t.Errorf("Media =\n%+v, want\n%+v", m, tc.want)
				}
				if m.Held() != !tc.want.Direction.Sends() {
					t.Errorf("Held() = %v with direction %s", m.Held(), m.Direction)
				}
				checkAnswer(t, []byte(body), answer, local, tc)
			})
		}
	}
}

// checkAnswer parses answer back and checks it against the offer and the
// RFC 3264 section 6 rules.
func checkAnswer(t *testing.T, offer, answer []byte, local Local, tc negotiateCase) {
	t.Helper()
	off, err := parse(offer)
	if err != nil {
		t.Fatal(err)
	}
	var ans *psdp.SessionDescription
	if tc.exotic {
		// pion/sdp cannot parse m=image ... udptl; our parser can.
		if ans, err = parse(answer); err != nil {
			t.Fatalf("parse(answer): %v\n%s", err, answer)
		}
	} else {
		ans = unmarshal(t, answer)
	}

	if ans.Origin.SessionID >= 1<<63 || ans.Origin.SessionID != local.SessionID&(1<<63-1) {
		t.Errorf("o= session id %d", ans.Origin.SessionID)
	}
	if ans.Origin.Username != username(local.Username) {
		t.Errorf("o= username %q", ans.Origin.Username)
	}
	wantType := "IP4"
	if local.Addr.Is6() {
		wantType = "IP6"
	}
	ci := ans.ConnectionInformation
	if ci == nil || ci.AddressType != wantType || ci.Address == nil || ci.Address.Address != local.Addr.String() {
		t.Errorf("c= %v, want IN %s %s", ci, wantType, local.Addr)
	}
	if len(ans.TimeDescriptions) != 1 || ans.TimeDescriptions[0].Timing != (psdp.Timing{}) {
		t.Errorf("t= %v, want 0 0", ans.TimeDescriptions)
	}

	if len(ans.MediaDescriptions) != len(off.MediaDescriptions) {
		t.Fatalf("answer has %d m= lines, offer %d:\n%s", len(ans.MediaDescriptions), len(off.MediaDescriptions), answer)
	}
	for i, md := range ans.MediaDescriptions {
		o := off.MediaDescriptions[i].MediaName
		if md.MediaName.Media != o.Media || proto(md.MediaName) != proto(o) {
			t.Errorf("m=%d is %s %s, offer %s %s", i, md.MediaName.Media, proto(md.MediaName), o.Media, proto(o))
		}
		if i != tc.chosen {
			if md.MediaName.Port.Value != 0 || !slices.Equal(md.MediaName.Formats, o.Formats) {
				t.Errorf("refused m=%d is %v, want port 0 and formats %v", i, md.MediaName, o.Formats)
			}
			continue
		}
		if md.MediaName.Port.Value != local.Port {
			t.Errorf("m= port %d, want %d", md.MediaName.Port.Value, local.Port)
		}
		wantFormats := []string{strconv.Itoa(int(tc.want.PayloadType))}
		if tc.want.DTMFPayloadType >= 0 {
			wantFormats = append(wantFormats, strconv.Itoa(tc.want.DTMFPayloadType))
		}
		if !slices.Equal(md.MediaName.Formats, wantFormats) {
			t.Errorf("m= formats %v, want %v", md.MediaName.Formats, wantFormats)
		}
		wantMaps := []string{wantFormats[0] + " " + tc.want.Codec.Name + "/8000"}
		var wantFmtp []string
		if tc.want.DTMFPayloadType >= 0 {
			wantMaps = append(wantMaps, wantFormats[1]+" telephone-event/8000")
			wantFmtp = []string{wantFormats[1] + " " + tc.events}
		}
		if got := attrsWithKey(md.Attributes, "rtpmap"); !slices.Equal(got, wantMaps) {
			t.Errorf("rtpmap %q, want %q", got, wantMaps)
		}
		if got := attrsWithKey(md.Attributes, "fmtp"); !slices.Equal(got, wantFmtp) {
			t.Errorf("fmtp %q, want %q", got, wantFmtp)
		}
		if got, _ := attr(md.Attributes, "ptime"); got != tc.ptimeAttr {
			t.Errorf("a=ptime:%q, want %q", got, tc.ptimeAttr)
		}
		if got := directionOf(nil, md.Attributes); got != tc.want.Direction {
			t.Errorf("answer direction %s, want %s", got, tc.want.Direction)
		}
		if _, ok := attr(md.Attributes, string(tc.want.Direction)); !ok {
			t.Errorf("answer does not state its direction explicitly")
		}
	}
}

func TestNegotiateErrors(t *testing.T) {
	const head = "v=0\no=- 1 1 IN IP4 192.0.2.9\ns=-\nc=IN IP4 192.0.2.9\nt=0 0\n"
	for _, tc := range []struct {
		name     string
		offer    string
		local    *Local
		sentinel error
		code     int
		warning  string
	}{
		{"g729 only", mustReadTestdata("g729-only.sdp"), nil,
			ErrNoCodec, 488, `305 sipagent "Incompatible media format"`},
		{"SAVP only", mustReadTestdata("savp-only.sdp"), nil,
			ErrTransport, 488, `302 sipagent "Incompatible transport protocol"`},
		{"WebRTC", mustReadTestdata("webrtc.sdp"), nil,
			ErrTransport, 488, `302 sipagent "Incompatible transport protocol"`},
		{"no audio", head + "m=video 9000 RTP/AVP 96\na=rtpmap:96 H264/90000\n", nil,
			ErrNoAudio, 488, `304 sipagent "Media type not available"`},
		{"no m= line", head, nil,
			ErrNoAudio, 488, `304 sipagent "Media type not available"`},
		{"audio port 0", head + "m=audio 0 RTP/AVP 0\n", nil,
			ErrNoAudio, 488, `304 sipagent "Media type not available"`},
		{"no formats", head + "m=audio 5000 RTP/AVP\n", nil,
			ErrNoCodec, 488, `305 sipagent "Incompatible media format"`},
		{"dynamic type without rtpmap", head + "m=audio 5000 RTP/AVP 96\n", nil,
			ErrNoCodec, 488, `305 sipagent "Incompatible media format"`},
		{"PCMU in stereo", head + "m=audio 5000 RTP/AVP 96\na=rtpmap:96 PCMU/8000/2\n", nil,
			ErrNoCodec, 488, `305 sipagent "Incompatible media format"`},
		{"ipv6 offer, ipv4 us", mustReadTestdata("ipv6.sdp"), nil,
			ErrAddress, 488, `301 sipagent "Incompatible network address formats"`},
		{"ipv4 offer, ipv6 us", mustReadTestdata("twilio.sdp"), &local6,
			ErrAddress, 488, `301 sipagent "Incompatible network address formats"`},
		{"host name", strings.Replace(head, "c=IN IP4 192.0.2.9", "c=IN IP4 pbx.example.com", 1) + "m=audio 5000 RTP/AVP 0\n", nil,
			ErrAddress, 488, `301 sipagent "Incompatible network address formats"`},
		{"multicast", strings.Replace(head, "c=IN IP4 192.0.2.9", "c=IN IP4 224.2.1.1/127", 1) + "m=audio 5000 RTP/AVP 0\n", nil,
			ErrAddress, 488, `301 sipagent "Incompatible network address formats"`},
		{"IP4 with an IPv6 address", strings.Replace(head, "c=IN IP4 192.0.2.9", "c=IN IP4 2001:db8::9", 1) + "m=audio 5000 RTP/AVP 0\n", nil,
			ErrAddress, 488, `301 sipagent "Incompatible network address formats"`},
		{"no c= line", strings.Replace(head, "c=IN IP4 192.0.2.9\n", "", 1) + "m=audio 5000 RTP/AVP 0\n", nil,
			ErrMalformed, 400, `399 sipagent "Malformed session description"`},
		{"empty", "", nil,
			ErrMalformed, 400, `399 sipagent "Malformed session description"`},
		{"not SDP", "hello world\n", nil,
			ErrMalformed, 400, `399 sipagent "Malformed session description"`},
		{"no o= line", "v=0\ns=-\nc=IN IP4 192.0.2.9\nt=0 0\nm=audio 5000 RTP/AVP 0\n", nil,
			ErrMalformed, 400, `399 sipagent "Malformed session description"`},
		{"bad o= line", strings.Replace(head, "o=- 1 1", "o=- x 1", 1) + "m=audio 5000 RTP/AVP 0\n", nil,
			ErrMalformed, 400, `399 sipagent "Malformed session description"`},
		{"bad port", head + "m=audio 70000 RTP/AVP 0\n", nil,
			ErrMalformed, 400, `399 sipagent "Malformed session description"`},
		{"t= in media section", head + "m=audio 5000 RTP/AVP 0\nt=0 0\n", nil,
			ErrMalformed, 400, `399 sipagent "Malformed session description"`},
		{"unknown line type", head + "x=private\nm=audio 5000 RTP/AVP 0\n", nil,
			ErrUnknownLine, 488, `307 sipagent "Session description parameter not understood"`},
		{"too large", head + strings.Repeat("a=x\n", maxSize/4), nil,
			ErrMalformed, 400, `399 sipagent "Malformed session description"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			local := local4
			if tc.local != nil {
				local = *tc.local
			}
			answer, m, err := Negotiate([]byte(tc.offer), nil, local)
			wantError(t, err, tc.sentinel, tc.code, tc.warning)
			if answer != nil || m != (Media{}) {
				t.Errorf("answer %q and Media %+v returned with an error", answer, m)
			}
		})
	}
}

// TestNegotiateErrorDetail checks that the error text names what the peer
// offered and what we take, for the logs.
func TestNegotiateErrorDetail(t *testing.T) {
	_, _, err := Negotiate([]byte(readTestdata(t, "g729-only.sdp")), nil, local4)
	for _, want := range []string{"18 G729/8000", "101 telephone-event/8000", "PCMU, PCMA"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

// TestNegotiateOwnOffer answers our own offer and reads the answer back,
// the path of two sipagents calling each other.
func TestNegotiateOwnOffer(t *testing.T) {
	offer := Offer([]media.Codec{media.PCMA, media.PCMU}, local6, SendRecv)
	answer, m, err := Negotiate(offer, []media.Codec{media.PCMU, media.PCMA}, local6)
	if err != nil {
		t.Fatal(err)
	}
	if m.Codec != media.PCMU || m.DTMFPayloadType != 101 || m.Ptime != DefaultPtime || m.Remote.Port() != uint16(local6.Port) {
		t.Errorf("answerer's Media = %+v", m)
	}
	back, err := ParseAnswer(answer, []media.Codec{media.PCMA, media.PCMU})
	if err != nil {
		t.Fatal(err)
	}
	if back.Codec != media.PCMU || back.DTMFPayloadType != 101 || back.Direction != SendRecv {
		t.Errorf("offerer's Media = %+v", back)
	}
}

func BenchmarkNegotiate(b *testing.B) {
	for _, name := range []string{"twilio.sdp", "linphone.sdp"} {
		offer := []byte(strings.ReplaceAll(readTestdata(b, name), "\n", "\r\n"))
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Negotiate(offer, nil, local4); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
