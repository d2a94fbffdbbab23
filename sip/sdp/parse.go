package sdp

import (
	"strconv"
	"strings"

	psdp "github.com/pion/sdp/v3"
)

// maxSize bounds the bodies we parse. A SIP message over UDP is far
// smaller; the bound keeps a hostile TCP peer from making us work hard.
const maxSize = 64 << 10

// parse reads a session description the way peers actually write them and
// returns it as pion/sdp's structure.
//
// pion/sdp v3 follows the RFC 8866 section 5 line order strictly, and
// peers do not: a session-level c= or b= after t= is a syntax error to it
// (pion/sdp#163), and it knows only some media types and protocols, so an
// m=image ... udptl t38 line (T.38 fax) fails the whole body. parse
// therefore rewrites the body first:
//
//   - lines end at CR, LF or CRLF; surrounding blanks and empty lines are
//     dropped, and the last line need not end;
//   - the lines we use (v o s c t a m) are put in RFC 8866 order within the
//     session and each media section; the first of a repeated c= wins;
//   - the lines we do not use (i u e p b z k r) are dropped, so their
//     syntax (b= types, u= URLs) cannot fail the body;
//   - each m= line is read here and replaced by a neutral one for pion; the
//     real one is put back into MediaName after parsing.
//
// A type letter RFC 8866 does not define fails with ErrUnknownLine
// (section 5: such a description is to be ignored); every other failure is
// ErrMalformed.
func parse(body []byte) (*psdp.SessionDescription, error) {
	text, names, err := normalize(body)
	if err != nil {
		return nil, err
	}
	sd := new(psdp.SessionDescription)
	if err := sd.UnmarshalString(text); err != nil {
		return nil, fail(ErrMalformed, "%v", err)
	}
	if len(sd.MediaDescriptions) != len(names) {
		return nil, fail(ErrMalformed, "parsed %d m= lines, read %d", len(sd.MediaDescriptions), len(names))
	}
	for i, md := range sd.MediaDescriptions {
		md.MediaName = names[i]
	}
	return sd, nil
}

// sessionLines and mediaLines hold the lines of one section that parse
// keeps, to write them back in RFC 8866 order.
type sessionLines struct {
	v, o, s, c string
	t, a       []string
}

type mediaLines struct {
	c string
	a []string
}

// normalize rewrites body as described at parse and returns the rewritten
// text and each m= line as the peer wrote it.
func normalize(body []byte) (string, []psdp.MediaName, error) {
	if len(body) == 0 {
		return "", nil, fail(ErrMalformed, "empty body")
	}
	if len(body) > maxSize {
		return "", nil, fail(ErrMalformed, "body of %d bytes is over %d", len(body), maxSize)
	}
	var (
		session sessionLines
		medias  []mediaLines
		names   []psdp.MediaName
	)
	rest := string(body)
	for rest != "" {
		var line string
		if i := strings.IndexAny(rest, "\r\n"); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			line, rest = rest, ""
		}
		line = strings.Trim(line, " \t")
		if line == "" {
			continue
		}
		if len(line) < 2 || line[1] != '=' {
			return "", nil, fail(ErrMalformed, "line %.40q is not <type>=<value>", line)
		}
		inMedia := len(medias) > 0
		switch line[0] {
		case 'v', 'o', 's', 't':
			if inMedia {
				return "", nil, fail(ErrMalformed, "%c= line in a media section", line[0])
			}
			session.set(line)
		case 'c':
			if inMedia {
				setFirst(&medias[len(medias)-1].c, line)
			} else {
				setFirst(&session.c, line)
			}
		case 'a':
			if inMedia {
				m := &medias[len(medias)-1]
				m.a = append(m.a, line)
			} else {
				session.a = append(session.a, line)
			}
		case 'm':
			name, err := parseMediaName(line[2:])
			if err != nil {
				return "", nil, err
			}
			names = append(names, name)
			medias = append(medias, mediaLines{})
		case 'i', 'u', 'e', 'p', 'b', 'z', 'k', 'r':
			// Not used by us; dropped (see parse).
		default:
			return "", nil, fail(ErrUnknownLine, "line type %q", line[0])
		}
	}
	for _, l := range []struct {
		typ  string
		line string
	}{{"v", session.v}, {"o", session.o}, {"s", session.s}} {
		if l.line == "" {
			return "", nil, fail(ErrMalformed, "no %s= line", l.typ)
		}
	}
	if len(session.t) == 0 {
		return "", nil, fail(ErrMalformed, "no t= line")
	}

	var b strings.Builder
	b.Grow(len(body) + 16*len(medias))
	writeLines(&b, session.v, session.o, session.s, session.c)
	writeLines(&b, session.t...)
	writeLines(&b, session.a...)
	for _, m := range medias {
		// A neutral m= line pion accepts; parse puts the real one back.
		writeLines(&b, "m=audio 0 RTP/AVP", m.c)
		writeLines(&b, m.a...)
	}
	return b.String(), names, nil
}

func (s *sessionLines) set(line string) {
	switch line[0] {
	case 'v':
		setFirst(&s.v, line)
	case 'o':
		setFirst(&s.o, line)
	case 's':
		setFirst(&s.s, line)
	case 't':
		s.t = append(s.t, line)
	}
}

func setFirst(dst *string, line string) {
	if *dst == "" {
		*dst = line
	}
}

func writeLines(b *strings.Builder, lines ...string) {
	for _, l := range lines {
		if l != "" {
			b.WriteString(l)
			b.WriteString("\r\n")
		}
	}
}

// parseMediaName reads the value of an m= line (RFC 8866 section 5.14):
// <media> <port>[/<number of ports>] <proto> <fmt> ...
// Every token must be printable ASCII, so that it can be copied into an
// answer unchanged.
func parseMediaName(value string) (psdp.MediaName, error) {
	fields := splitBlanks(value)
	if len(fields) < 3 {
		return psdp.MediaName{}, fail(ErrMalformed, "m=%.40q has %d fields, want at least 3", value, len(fields))
	}
	for _, f := range fields {
		if !isToken(f) {
			return psdp.MediaName{}, fail(ErrMalformed, "m= field %.40q is not printable ASCII", f)
		}
	}
	portText, count, hasCount := strings.Cut(fields[1], "/")
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return psdp.MediaName{}, fail(ErrMalformed, "m= port %q", fields[1])
	}
	if hasCount {
		if _, err := strconv.ParseUint(count, 10, 16); err != nil {
			return psdp.MediaName{}, fail(ErrMalformed, "m= port %q", fields[1])
		}
	}
	return psdp.MediaName{
		Media:   fields[0],
		Port:    psdp.RangedPort{Value: int(port)},
		Protos:  strings.Split(fields[2], "/"),
		Formats: fields[3:],
	}, nil
}

// splitBlanks splits s at runs of spaces and tabs, the only field
// separators of SDP (RFC 8866 section 9); strings.Fields would also split
// at Unicode spaces.
func splitBlanks(s string) []string {
	fields := make([]string, 0, 8)
	for s != "" {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			break
		}
		i := strings.IndexAny(s, " \t")
		if i < 0 {
			i = len(s)
		}
		fields = append(fields, s[:i])
		s = s[i:]
	}
	return fields
}

// isToken reports whether s is non-empty printable ASCII without blanks.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// proto returns the transport protocol of an m= line, e.g. "RTP/AVP".
func proto(n psdp.MediaName) string { return strings.Join(n.Protos, "/") }

// isRTPAVP reports whether n is plain RTP audio or video: RTP/AVP
// (RFC 3551) or RTP/AVPF (RFC 4585), which we answer as plain RTP.
func isRTPAVP(n psdp.MediaName) bool {
	p := proto(n)
	return strings.EqualFold(p, "RTP/AVP") || strings.EqualFold(p, "RTP/AVPF")
}
