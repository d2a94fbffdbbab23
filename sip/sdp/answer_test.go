package sdp

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sipagent/sipagent/media"
)

func TestParseAnswer(t *testing.T) {
	const head = "v=0\r\no=- 5 5 IN IP4 192.0.2.5\r\ns=-\r\nc=IN IP4 192.0.2.5\r\nt=0 0\r\n"
	remote := netip.MustParseAddrPort("192.0.2.5:7000")
	for _, tc := range []struct {
		name   string
		answer string
		want   Media
	}{
		{"asterisk takes PCMA",
			head + "m=audio 7000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n",
			Media{Codec: media.PCMA, PayloadType: 8, DTMFPayloadType: 101, Ptime: 20 * time.Millisecond, Remote: remote, Direction: SendRecv}},
		{"answerer's order wins",
			head + "m=audio 7000 RTP/AVP 8 0\r\n",
			Media{Codec: media.PCMA, PayloadType: 8, DTMFPayloadType: -1, Ptime: DefaultPtime, Remote: remote, Direction: SendRecv}},
		{"unoffered codec skipped",
			head + "m=audio 7000 RTP/AVP 18 0\r\na=ptime:30\r\n",
			Media{Codec: media.PCMU, PayloadType: 0, DTMFPayloadType: -1, Ptime: 30 * time.Millisecond, Remote: remote, Direction: SendRecv}},
		{"dynamic type",
			head + "m=audio 7000 RTP/AVP 100 101\r\na=rtpmap:100 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n",
			Media{Codec: media.PCMU, PayloadType: 100, DTMFPayloadType: 101, Ptime: DefaultPtime, Remote: remote, Direction: SendRecv}},
		{"answer recvonly: we send only",
			head + "m=audio 7000 RTP/AVP 0\r\na=recvonly\r\n",
			Media{Codec: media.PCMU, DTMFPayloadType: -1, Ptime: DefaultPtime, Remote: remote, Direction: SendOnly}},
		{"answer sendonly: we receive only",
			head + "m=audio 7000 RTP/AVP 0\r\na=sendonly\r\n",
			Media{Codec: media.PCMU, DTMFPayloadType: -1, Ptime: DefaultPtime, Remote: remote, Direction: RecvOnly}},
		{"answer c=0.0.0.0",
			strings.Replace(head, "c=IN IP4 192.0.2.5", "c=IN IP4 0.0.0.0", 1) + "m=audio 7000 RTP/AVP 0\r\n",
			Media{Codec: media.PCMU, DTMFPayloadType: -1, Ptime: DefaultPtime, Remote: netip.MustParseAddrPort("0.0.0.0:7000"), Direction: RecvOnly}},
		{"LF only, no final newline",
			strings.TrimSuffix(strings.ReplaceAll(head+"m=audio 7000 RTP/AVP 0\r\n", "\r\n", "\n"), "\n"),
			Media{Codec: media.PCMU, DTMFPayloadType: -1, Ptime: DefaultPtime, Remote: remote, Direction: SendRecv}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseAnswer([]byte(tc.answer), []media.Codec{media.PCMU, media.PCMA})
			if err != nil {
				t.Fatal(err)
			}
			if m != tc.want {
				t.Errorf("Media =\n%+v, want\n%+v", m, tc.want)
			}
		})
	}
}

func TestParseAnswerErrors(t *testing.T) {
	const head = "v=0\r\no=- 5 5 IN IP4 192.0.2.5\r\ns=-\r\nc=IN IP4 192.0.2.5\r\nt=0 0\r\n"
	for _, tc := range []struct {
		name     string
		answer   string
		offered  []media.Codec
		sentinel error
	}{
		{"rejected", head + "m=audio 0 RTP/AVP 0\r\n", nil, ErrNoAudio},
		{"not offered", head + "m=audio 7000 RTP/AVP 8\r\n", []media.Codec{media.PCMU}, ErrNoCodec},
		{"SAVP", head + "m=audio 7000 RTP/SAVP 0\r\n", nil, ErrTransport},
		{"garbage", "200 OK", nil, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseAnswer([]byte(tc.answer), tc.offered)
			code, warnCode, text := response(tc.sentinel)
			wantError(t, err, tc.sentinel, code, warning(warnCode, text))
			if m != (Media{}) {
				t.Errorf("Media %+v returned with an error", m)
			}
		})
	}
}

func BenchmarkParseAnswer(b *testing.B) {
	answer, _, err := Negotiate([]byte(mustReadTestdata("twilio.sdp")), nil, local4)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseAnswer(answer, nil); err != nil {
			b.Fatal(err)
		}
	}
}
