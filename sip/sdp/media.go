package sdp

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	psdp "github.com/pion/sdp/v3"

	"github.com/sipagent/sipagent/media"
)

// Packet times we accept from a=ptime and a=maxptime (RFC 8866 sections
// 6.4 and 6.5), and the one we use when a description names none (RFC 3551
// section 4.2: the default packetization interval is 20 ms).
const (
	MinPtime     = 10 * time.Millisecond
	MaxPtime     = 60 * time.Millisecond
	DefaultPtime = 20 * time.Millisecond
)

// Media is the outcome of a negotiation: what the media package needs to
// run a call's audio.
type Media struct {
	// Codec is the negotiated codec, as listed in the caller's
	// preferences (so its PayloadType is the static one).
	Codec media.Codec
	// PayloadType is the RTP payload type for Codec on the wire. It differs
	// from Codec.PayloadType when the peer mapped the codec to a dynamic
	// type (a=rtpmap:96 PCMU/8000); we keep the peer's number as RFC 3264
	// section 6.1 asks.
	PayloadType uint8
	// DTMFPayloadType is the RFC 4733 telephone-event payload type, or -1
	// if the peer does not do telephone-event at Codec's clock rate.
	DTMFPayloadType int
	// Ptime is the packet time to send with: the peer's a=ptime if within
	// MinPtime..MaxPtime, else DefaultPtime.
	Ptime time.Duration
	// Remote is where to send RTP: the c= address of the stream (a
	// media-level c= wins over the session-level one) and the m= port. An
	// unspecified address (0.0.0.0 or ::) is the RFC 2543 hold.
	Remote netip.AddrPort
	// Direction is our direction: Sends says whether to send audio,
	// Receives whether the peer will send any.
	Direction Direction
}

// Held reports whether the peer does not want our audio: it put the call
// on hold with a=sendonly or a=inactive (RFC 3264 section 8.4) or with an
// unspecified address (the RFC 2543 way).
func (m Media) Held() bool { return !m.Direction.Sends() }

// Local is our side of the session: what goes into the o= and c= lines and
// the m= port of our offers and answers.
type Local struct {
	// Addr is the address we receive RTP on; its family decides IN IP4 or
	// IN IP6, and an offer in the other family is refused.
	Addr netip.Addr
	// Port is the RTP port we receive on.
	Port int
	// SessionID and Version go into o= (RFC 8866 section 5.2); the top bit
	// is cleared, since peers refuse values of 2^63 and up. Version must
	// grow with every new offer or answer in a dialog (RFC 3264 section 8).
	SessionID uint64
	Version   uint64
	// Username goes into o=; empty or not a token means "sipagent".
	Username string
}

// maxOriginID masks o= session ids and versions below 2^63: peers parse
// them as signed 64-bit integers and answered 488 to larger ones.
const maxOriginID = 1<<63 - 1

// ptimeOf returns the packet time of a stream and whether the stream named
// one: a=ptime of the m= section, else of the session. An a=ptime outside
// MinPtime..MaxPtime counts as named but yields DefaultPtime; without a
// usable a=ptime, an a=maxptime below the default lowers it.
func ptimeOf(session, media []psdp.Attribute) (time.Duration, bool) {
	v, named := findAttr(media, "ptime")
	if !named {
		v, named = findAttr(session, "ptime")
	}
	if d, ok := parseMillis(v); named && ok {
		return d, true
	}
	if v, ok := findAttr(media, "maxptime"); ok {
		if d, ok := parseMillis(v); ok && d < DefaultPtime {
			return d, named
		}
	}
	return DefaultPtime, named
}

// parseMillis reads a packet time in milliseconds, allowing a fraction
// ("20.0") as some peers write it, and rounds it to whole milliseconds.
func parseMillis(v string) (time.Duration, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return 0, false
	}
	f = math.Round(f)
	if !(f >= float64(MinPtime/time.Millisecond) && f <= float64(MaxPtime/time.Millisecond)) {
		return 0, false
	}
	return time.Duration(f) * time.Millisecond, true
}

func findAttr(attrs []psdp.Attribute, key string) (string, bool) {
	for _, a := range attrs {
		if a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}

// remoteOf returns where to send a stream's RTP: the media-level c= if
// present, else the session-level one (RFC 8866 section 5.7), and the m=
// port. The address must be a unicast IP address of the family c= names;
// a host name is not resolved.
func remoteOf(sd *psdp.SessionDescription, md *psdp.MediaDescription) (netip.AddrPort, error) {
	ci := md.ConnectionInformation
	if ci == nil {
		ci = sd.ConnectionInformation
	}
	if ci == nil || ci.Address == nil {
		return netip.AddrPort{}, fail(ErrMalformed, "no c= line for m=%s", md.MediaName.Media)
	}
	// A multicast address may carry /<ttl>[/<count>]; we refuse multicast
	// below, but cut it so the error names the address.
	text, _, _ := strings.Cut(ci.Address.Address, "/")
	addr, err := netip.ParseAddr(text)
	if err != nil || addr.Zone() != "" {
		return netip.AddrPort{}, fail(ErrAddress, "c=%s is not an IP address", ci.Address.Address)
	}
	if (ci.AddressType == "IP4") != addr.Is4() {
		return netip.AddrPort{}, fail(ErrAddress, "c=%s %s mixes address families", ci.AddressType, text)
	}
	addr = addr.Unmap()
	if addr.IsMulticast() {
		return netip.AddrPort{}, fail(ErrAddress, "c=%s is multicast", text)
	}
	return netip.AddrPortFrom(addr, uint16(md.MediaName.Port.Value)), nil
}

// connection returns the address type and address of our o= and c= lines.
// An invalid Addr is written as 0.0.0.0.
func connection(addr netip.Addr) (addrType, address string) {
	if !addr.IsValid() {
		return "IP4", "0.0.0.0"
	}
	addr = addr.Unmap().WithZone("")
	if addr.Is4() {
		return "IP4", addr.String()
	}
	return "IP6", addr.String()
}

// sameFamily reports whether we can send from local to remote. An
// unspecified remote (hold) and an unknown local match anything.
func sameFamily(local, remote netip.Addr) bool {
	if !local.IsValid() || remote.IsUnspecified() {
		return true
	}
	return local.Unmap().Is4() == remote.Is4()
}

// username returns u if it can stand in o= (a non-empty token), else
// "sipagent".
func username(u string) string {
	if isToken(u) {
		return u
	}
	return "sipagent"
}
