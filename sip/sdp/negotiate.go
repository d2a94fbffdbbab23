package sdp

import (
	"strings"

	psdp "github.com/pion/sdp/v3"

	"github.com/sipagent/sipagent/media"
)

// Negotiate answers a peer's offer (RFC 3264 section 6) and returns the
// answer and the negotiated Media.
//
// It takes the first audio m= section with a non-zero port over RTP/AVP or
// RTP/AVPF that holds one of prefs, and picks the first codec of prefs that
// section offers: by static payload type or by rtpmap name, so a dynamic
// type mapped to PCMU/8000 counts, and the answer keeps the offer's payload
// type. telephone-event at the codec's clock rate is kept with the offer's
// payload type, a=ptime is echoed if the offer has one, and the direction
// is the offer's reversed. Every other m= section is refused with port 0.
// An empty prefs means media.Codecs.
//
// On failure the error is an *Error naming the SIP response; see the
// sentinel errors for the cases.
func Negotiate(offer []byte, prefs []media.Codec, local Local) (answer []byte, m Media, err error) {
	sd, err := parse(offer)
	if err != nil {
		return nil, Media{}, err
	}
	if len(prefs) == 0 {
		prefs = media.Codecs
	}
	chosen, c, err := chooseOffered(sd, prefs)
	if err != nil {
		return nil, Media{}, err
	}
	if !sameFamily(local.Addr, c.media.Remote.Addr()) {
		return nil, Media{}, fail(ErrAddress, "offer is at %s, we are at %s", c.media.Remote.Addr(), local.Addr)
	}

	out := newSession(local)
	out.MediaDescriptions = make([]*psdp.MediaDescription, len(sd.MediaDescriptions))
	for i, md := range sd.MediaDescriptions {
		if i != chosen {
			out.MediaDescriptions[i] = refused(md.MediaName)
			continue
		}
		// The offer's payload type, our spelling of the codec name.
		format := rtpFormat{pt: c.format.pt, name: c.media.Codec.Name, clock: c.format.clock}
		stream := audioStream{
			port:    local.Port,
			proto:   proto(md.MediaName),
			formats: []rtpFormat{format},
			dtmfPT:  c.media.DTMFPayloadType,
			events:  c.events,
			dir:     c.media.Direction,
		}
		if c.ptimeNamed {
			stream.ptime = c.media.Ptime
		}
		out.MediaDescriptions[i] = stream.media()
	}
	return marshal(out), c.media, nil
}

// choice is a stream chosen from an offer or answer.
type choice struct {
	media      Media
	format     rtpFormat // the codec's format as the peer wrote it
	events     string    // telephone-event events we both handle
	ptimeNamed bool      // the peer's description has a=ptime
}

// chooseOffered finds the audio section to answer: see Negotiate. It
// returns the index of that m= section and the choice made in it.
func chooseOffered(sd *psdp.SessionDescription, prefs []media.Codec) (int, choice, error) {
	return chooseStream(sd, func(formats []rtpFormat) (media.Codec, rtpFormat, bool) {
		return chooseByPrefs(formats, prefs)
	}, prefs)
}

// chooseStream walks the m= sections in order and returns the first audio
// section over RTP/AVP(F) with a non-zero port where pick finds a codec,
// with the choice made in it. Our direction is the peer's reversed, less
// sending when the peer's address is unspecified.
//
// The errors name the best reason the peer can act on: ErrNoCodec when
// there was a usable audio section, else ErrTransport when there was audio
// over another protocol, else ErrNoAudio.
func chooseStream(sd *psdp.SessionDescription, pick func([]rtpFormat) (media.Codec, rtpFormat, bool), want []media.Codec) (int, choice, error) {
	var (
		usable  bool     // an audio section over RTP/AVP(F) was seen
		offered []string // its formats, for ErrNoCodec
		protos  []string // protocols of audio sections we cannot use
	)
	for i, md := range sd.MediaDescriptions {
		if !strings.EqualFold(md.MediaName.Media, "audio") || md.MediaName.Port.Value == 0 {
			continue
		}
		if !isRTPAVP(md.MediaName) {
			protos = append(protos, proto(md.MediaName))
			continue
		}
		usable = true
		formats := formatsOf(md)
		codec, format, ok := pick(formats)
		if !ok {
			for _, f := range formats {
				offered = append(offered, f.String())
			}
			continue
		}
		remote, err := remoteOf(sd, md)
		if err != nil {
			return 0, choice{}, err
		}
		dir := directionOf(sd.Attributes, md.Attributes).Reverse()
		if remote.Addr().IsUnspecified() {
			dir = dir.withoutSend()
		}
		dtmf, events := chooseTelephoneEvent(formats, md.Attributes, format.clock)
		ptime, named := ptimeOf(sd.Attributes, md.Attributes)
		return i, choice{
			media: Media{
				Codec:           codec,
				PayloadType:     format.pt,
				DTMFPayloadType: dtmf,
				Ptime:           ptime,
				Remote:          remote,
				Direction:       dir,
			},
			format:     format,
			events:     events,
			ptimeNamed: named,
		}, nil
	}
	switch {
	case usable:
		return 0, choice{}, fail(ErrNoCodec, "offered [%s]; we take %s", strings.Join(offered, ", "), codecNames(want))
	case protos != nil:
		return 0, choice{}, fail(ErrTransport, "audio over %s; we take RTP/AVP", strings.Join(protos, ", "))
	}
	return 0, choice{}, fail(ErrNoAudio, "no audio m= line with a non-zero port among %d", len(sd.MediaDescriptions))
}

func codecNames(codecs []media.Codec) string {
	names := make([]string, len(codecs))
	for i, c := range codecs {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}
