package sdp

import (
	"slices"

	"github.com/sipagent/sipagent/media"
)

// offerDTMFPayloadType is the telephone-event payload type of our offers,
// the one most peers (Twilio, Asterisk, FreeSWITCH) use.
const offerDTMFPayloadType = 101

// Offer builds our offer (RFC 3264 section 5): one audio m= section over
// RTP/AVP with prefs in order, telephone-event/8000 for DTMF events 0-16
// (RFC 4733), a=ptime:20 and direction dir (SendRecv if dir is not valid;
// SendOnly or Inactive put the call on hold, RFC 3264 section 8.4).
//
// It is used when an INVITE comes without a body (we offer in the 200 OK,
// the peer answers in the ACK) and for outbound calls. Read the answer with
// ParseAnswer. An empty prefs means media.Codecs; a codec listed twice is
// offered once.
func Offer(prefs []media.Codec, local Local, dir Direction) []byte {
	if len(prefs) == 0 {
		prefs = media.Codecs
	}
	formats := make([]rtpFormat, 0, len(prefs))
	for _, c := range prefs {
		if !slices.ContainsFunc(formats, func(f rtpFormat) bool { return f.pt == c.PayloadType }) {
			formats = append(formats, rtpFormat{pt: c.PayloadType, name: c.Name, clock: c.ClockRate})
		}
	}
	sd := newSession(local)
	stream := audioStream{
		port:    local.Port,
		proto:   "RTP/AVP",
		formats: formats,
		dtmfPT:  freePayloadType(formats),
		events:  formatEvents(dtmfEvents),
		ptime:   DefaultPtime,
		dir:     dir,
	}
	sd.MediaDescriptions = append(sd.MediaDescriptions, stream.media())
	return marshal(sd)
}

// freePayloadType returns 101 unless a codec uses it, else the first free
// dynamic payload type (96-127, RFC 3551 section 3), else -1.
func freePayloadType(formats []rtpFormat) int {
	used := func(pt int) bool {
		return slices.ContainsFunc(formats, func(f rtpFormat) bool { return int(f.pt) == pt })
	}
	if !used(offerDTMFPayloadType) {
		return offerDTMFPayloadType
	}
	for pt := 96; pt <= 127; pt++ {
		if !used(pt) {
			return pt
		}
	}
	return -1
}
