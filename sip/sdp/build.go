package sdp

import (
	"strconv"
	"strings"
	"time"

	psdp "github.com/pion/sdp/v3"
)

// newSession returns the session part of our offers and answers
// (RFC 8866 section 5): o= from local, s=-, a session-level c= and t=0 0.
func newSession(local Local) *psdp.SessionDescription {
	addrType, address := connection(local.Addr)
	return &psdp.SessionDescription{
		Origin: psdp.Origin{
			Username:       username(local.Username),
			SessionID:      local.SessionID & maxOriginID,
			SessionVersion: local.Version & maxOriginID,
			NetworkType:    "IN",
			AddressType:    addrType,
			UnicastAddress: address,
		},
		// RFC 8866 section 5.3: "-" when there is no session name.
		SessionName: "-",
		ConnectionInformation: &psdp.ConnectionInformation{
			NetworkType: "IN",
			AddressType: addrType,
			Address:     &psdp.Address{Address: address},
		},
		TimeDescriptions: []psdp.TimeDescription{{}}, // t=0 0: unbounded
	}
}

// audioStream describes one audio m= section we write.
type audioStream struct {
	port    int
	proto   string      // "RTP/AVP" or, answering, the offer's
	formats []rtpFormat // in preference order
	dtmfPT  int         // telephone-event payload type, or -1
	events  string      // its events, e.g. "0-16"
	ptime   time.Duration
	dir     Direction
}

// media returns the m= section for s: the formats, an rtpmap for each
// (also for static types, which costs little and helps peers that need
// them), telephone-event with its fmtp of events (RFC 4733), a=ptime when
// set, and the direction.
func (s audioStream) media() *psdp.MediaDescription {
	md := &psdp.MediaDescription{
		MediaName: psdp.MediaName{
			Media:  "audio",
			Port:   psdp.RangedPort{Value: s.port},
			Protos: strings.Split(s.proto, "/"),
		},
	}
	for _, f := range s.formats {
		md.MediaName.Formats = append(md.MediaName.Formats, strconv.Itoa(int(f.pt)))
		md.Attributes = append(md.Attributes, psdp.NewAttribute("rtpmap", f.rtpmap()))
	}
	if s.dtmfPT >= 0 {
		// At the clock rate of the audio codec, whose timestamps it shares.
		clock := uint32(8000)
		if len(s.formats) > 0 {
			clock = s.formats[0].clock
		}
		pt := strconv.Itoa(s.dtmfPT)
		md.MediaName.Formats = append(md.MediaName.Formats, pt)
		md.Attributes = append(md.Attributes,
			psdp.NewAttribute("rtpmap", pt+" telephone-event/"+strconv.FormatUint(uint64(clock), 10)),
			psdp.NewAttribute("fmtp", pt+" "+s.events))
	}
	if s.ptime > 0 {
		md.Attributes = append(md.Attributes, psdp.NewAttribute("ptime", strconv.Itoa(int(s.ptime/time.Millisecond))))
	}
	dir := s.dir
	if !dir.Valid() {
		dir = SendRecv
	}
	md.Attributes = append(md.Attributes, psdp.NewPropertyAttribute(string(dir)))
	return md
}

// refused returns the answer to an m= section we do not take: the same
// media type, protocol and formats with port 0 (RFC 3264 section 6).
func refused(offer psdp.MediaName) *psdp.MediaDescription {
	return &psdp.MediaDescription{MediaName: psdp.MediaName{
		Media:   offer.Media,
		Protos:  offer.Protos,
		Formats: offer.Formats,
	}}
}

// marshal writes sd. pion's Marshal never fails in v3.0.20; the error is
// checked in case a later version starts to.
func marshal(sd *psdp.SessionDescription) []byte {
	b, err := sd.Marshal()
	if err != nil {
		panic("sdp: marshal our own description: " + err.Error())
	}
	return b
}
