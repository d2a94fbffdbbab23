package sdp

import (
	"strconv"
	"strings"

	psdp "github.com/pion/sdp/v3"

	"github.com/sipagent/sipagent/media"
)

// rtpFormat is one payload format of an RTP m= line: its payload type and
// the encoding named by a=rtpmap (RFC 8866 section 6.6) or, for a static
// payload type without one, by RFC 3551 section 6.
type rtpFormat struct {
	pt       uint8
	name     string
	clock    uint32
	channels int // 0 when the rtpmap leaves it out, meaning 1
}

func (f rtpFormat) String() string {
	s := strconv.Itoa(int(f.pt)) + " " + f.name + "/" + strconv.FormatUint(uint64(f.clock), 10)
	if f.channels > 1 {
		s += "/" + strconv.Itoa(f.channels)
	}
	return s
}

// rtpmap returns the a=rtpmap value for f, e.g. "0 PCMU/8000".
func (f rtpFormat) rtpmap() string { return f.String() }

// is reports whether f is codec c: same encoding name (compared without
// regard to case, RFC 4855 section 3), clock rate and a single channel.
func (f rtpFormat) is(c media.Codec) bool {
	return strings.EqualFold(f.name, c.Name) && f.clock == c.ClockRate && f.channels <= 1
}

// staticFormats are the audio payload types of RFC 3551 section 6, table 4,
// that need no rtpmap. Only a few matter to us, but naming the others makes
// error messages readable ("offered 18 G729/8000").
var staticFormats = [...]rtpFormat{
	0:  {0, "PCMU", 8000, 0},
	3:  {3, "GSM", 8000, 0},
	4:  {4, "G723", 8000, 0},
	5:  {5, "DVI4", 8000, 0},
	6:  {6, "DVI4", 16000, 0},
	7:  {7, "LPC", 8000, 0},
	8:  {8, "PCMA", 8000, 0},
	9:  {9, "G722", 8000, 0},
	10: {10, "L16", 44100, 2},
	11: {11, "L16", 44100, 0},
	12: {12, "QCELP", 8000, 0},
	13: {13, "CN", 8000, 0},
	14: {14, "MPA", 90000, 0},
	15: {15, "G728", 8000, 0},
	16: {16, "DVI4", 11025, 0},
	17: {17, "DVI4", 22050, 0},
	18: {18, "G729", 8000, 0},
}

// formatsOf returns the payload formats of an RTP m= line in the order the
// line lists them. Formats that are not payload types (0-127), and dynamic
// ones without an rtpmap, are left out.
func formatsOf(md *psdp.MediaDescription) []rtpFormat {
	out := make([]rtpFormat, 0, len(md.MediaName.Formats))
	for _, f := range md.MediaName.Formats {
		pt, err := strconv.ParseUint(f, 10, 8)
		if err != nil || pt > 127 {
			continue
		}
		if rf, ok := rtpmapOf(md.Attributes, uint8(pt)); ok {
			out = append(out, rf)
		} else if int(pt) < len(staticFormats) && staticFormats[pt].name != "" {
			out = append(out, staticFormats[pt])
		}
	}
	return out
}

// rtpmapOf finds and parses "a=rtpmap:<pt> <name>/<clock>[/<channels>]".
func rtpmapOf(attrs []psdp.Attribute, pt uint8) (rtpFormat, bool) {
	for _, a := range attrs {
		if a.Key != "rtpmap" {
			continue
		}
		ptText, enc, ok := strings.Cut(strings.TrimSpace(a.Value), " ")
		if !ok || ptText != strconv.Itoa(int(pt)) {
			continue
		}
		parts := strings.Split(strings.TrimSpace(enc), "/")
		if len(parts) < 2 || len(parts) > 3 || parts[0] == "" {
			continue
		}
		clock, err := strconv.ParseUint(parts[1], 10, 32)
		if err != nil || clock == 0 {
			continue
		}
		f := rtpFormat{pt: pt, name: parts[0], clock: uint32(clock)}
		if len(parts) == 3 {
			if f.channels, err = strconv.Atoi(parts[2]); err != nil || f.channels < 1 {
				continue
			}
		}
		return f, true
	}
	return rtpFormat{}, false
}

// fmtpOf returns the value after the payload type of "a=fmtp:<pt> <value>".
func fmtpOf(attrs []psdp.Attribute, pt uint8) (string, bool) {
	want := strconv.Itoa(int(pt))
	for _, a := range attrs {
		if a.Key != "fmtp" {
			continue
		}
		ptText, value, _ := strings.Cut(strings.TrimSpace(a.Value), " ")
		if ptText == want {
			return strings.TrimSpace(value), true
		}
	}
	return "", false
}

// chooseByPrefs picks the first codec of prefs that formats contain, the
// answerer's choice among offered formats (RFC 3264 section 6.1), and the
// first offered format that carries it.
func chooseByPrefs(formats []rtpFormat, prefs []media.Codec) (media.Codec, rtpFormat, bool) {
	for _, c := range prefs {
		for _, f := range formats {
			if f.is(c) {
				return c, f, true
			}
		}
	}
	return media.Codec{}, rtpFormat{}, false
}

// chooseByFormats picks the first of formats that is one of codecs: an
// offerer reading an answer takes the answerer's most preferred format
// (RFC 3264 section 7).
func chooseByFormats(formats []rtpFormat, codecs []media.Codec) (media.Codec, rtpFormat, bool) {
	for _, f := range formats {
		for _, c := range codecs {
			if f.is(c) {
				return c, f, true
			}
		}
	}
	return media.Codec{}, rtpFormat{}, false
}

// dtmfEvents are the telephone events we send and understand: the DTMF
// digits 0-9, *, #, A-D (events 0-15, RFC 4733 section 3.2) and 16, the
// hook flash of RFC 2833 that Twilio and Asterisk offer as "0-16".
const dtmfEvents = 1<<17 - 1

// chooseTelephoneEvent finds the first telephone-event format (RFC 4733)
// at clock, the rate of the chosen audio codec whose timestamps the events
// share, and the events of it that we handle, written as an fmtp value
// ("0-16"). A format whose events we do not handle at all is skipped.
func chooseTelephoneEvent(formats []rtpFormat, attrs []psdp.Attribute, clock uint32) (pt int, events string) {
	for _, f := range formats {
		if !strings.EqualFold(f.name, "telephone-event") || f.clock != clock {
			continue
		}
		mask := uint32(1<<16 - 1) // RFC 4733: without an fmtp, events 0-15
		if v, ok := fmtpOf(attrs, f.pt); ok {
			mask = parseEvents(v)
		}
		if mask &= dtmfEvents; mask != 0 {
			return int(f.pt), formatEvents(mask)
		}
	}
	return -1, ""
}

// parseEvents reads an RFC 4733 events list such as "0-15,66,70" into a
// mask of the events below 32. It ignores what it cannot read.
func parseEvents(list string) uint32 {
	list = strings.TrimPrefix(list, "events=")
	var mask uint32
	for item := range strings.SplitSeq(list, ",") {
		loText, hiText, isRange := strings.Cut(strings.TrimSpace(item), "-")
		lo, err := strconv.ParseUint(strings.TrimSpace(loText), 10, 8)
		if err != nil {
			continue
		}
		hi := lo
		if isRange {
			if hi, err = strconv.ParseUint(strings.TrimSpace(hiText), 10, 8); err != nil {
				continue
			}
		}
		for e := lo; e <= min(hi, 31); e++ {
			mask |= 1 << e
		}
	}
	return mask
}

// formatEvents writes mask as an events list of ranges, e.g. "0-11,16".
func formatEvents(mask uint32) string {
	var b strings.Builder
	for e := 0; e < 32; e++ {
		if mask&(1<<e) == 0 {
			continue
		}
		end := e
		for end+1 < 32 && mask&(1<<(end+1)) != 0 {
			end++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(e))
		if end > e {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(end))
		}
		e = end
	}
	return b.String()
}
