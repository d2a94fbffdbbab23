package sdp

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sipagent/sipagent/media"
)

// addSeeds adds every testdata offer, in each line-ending variant, to f.
func addSeeds(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.sdp"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for _, v := range lineVariants(string(b)) {
			f.Add([]byte(v))
		}
	}
}

var warningRE = regexp.MustCompile(`^3\d\d sipagent "[^"\\]*"$`)

// checkError checks that a failure is an *Error a SIP response can carry.
func checkError(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is %T, want *Error", err, err)
	}
	if (e.Code != 400 && e.Code != 488) || !warningRE.MatchString(e.Warning) {
		t.Fatalf("error %v: Code %d, Warning %q", err, e.Code, e.Warning)
	}
}

// checkMedia checks the invariants of any negotiated Media.
func checkMedia(t *testing.T, m Media, codecs []media.Codec) {
	t.Helper()
	if !slices.Contains(codecs, m.Codec) {
		t.Fatalf("codec %v not among %v", m.Codec, codecs)
	}
	if m.Ptime < MinPtime || m.Ptime > MaxPtime || !m.Direction.Valid() {
		t.Fatalf("Media %+v", m)
	}
	if m.DTMFPayloadType < -1 || m.DTMFPayloadType > 127 || m.PayloadType > 127 {
		t.Fatalf("payload types in %+v", m)
	}
	if !m.Remote.IsValid() || m.Remote.Port() == 0 || m.Remote.Addr().IsMulticast() {
		t.Fatalf("remote %v", m.Remote)
	}
}

// FuzzNegotiate: no input panics; a failure is an *Error; an answer
// parses back, has as many m= lines as the offer with only the chosen one
// open, and reads back through ParseAnswer as the same codec.
func FuzzNegotiate(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, offer []byte) {
		answer, m, err := Negotiate(offer, nil, local4)
		if err != nil {
			checkError(t, err)
			return
		}
		checkMedia(t, m, media.Codecs)
		if m.Remote.Addr().Is4() != local4.Addr.Is4() && !m.Remote.Addr().IsUnspecified() {
			t.Fatalf("remote %v for local %v", m.Remote, local4.Addr)
		}
		off, err := parse(offer)
		if err != nil {
			t.Fatalf("offer negotiated but does not parse: %v", err)
		}
		ans, err := parse(answer)
		if err != nil {
			t.Fatalf("answer does not parse: %v\n%s", err, answer)
		}
		if len(ans.MediaDescriptions) != len(off.MediaDescriptions) {
			t.Fatalf("answer has %d m= lines, offer %d", len(ans.MediaDescriptions), len(off.MediaDescriptions))
		}
		open := 0
		for _, md := range ans.MediaDescriptions {
			if md.MediaName.Port.Value != 0 {
				open++
			}
		}
		if open != 1 {
			t.Fatalf("answer has %d open m= lines:\n%s", open, answer)
		}
		back, err := ParseAnswer(answer, media.Codecs)
		if err != nil {
			t.Fatalf("ParseAnswer(our answer): %v\n%s", err, answer)
		}
		if back.Codec != m.Codec || back.PayloadType != m.PayloadType || back.DTMFPayloadType != m.DTMFPayloadType ||
			back.Direction != m.Direction.Reverse() || back.Remote.Port() != uint16(local4.Port) {
			t.Fatalf("answer reads back as %+v, negotiated %+v", back, m)
		}
		if strings.Contains(string(answer), "\n\n") || !strings.HasSuffix(string(answer), "\r\n") {
			t.Fatalf("answer framing:\n%q", answer)
		}
	})
}

// FuzzParseAnswer: no input panics; a failure is an *Error; a success is
// a usable Media with an offered codec.
func FuzzParseAnswer(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, answer []byte) {
		offered := []media.Codec{media.PCMA}
		m, err := ParseAnswer(answer, offered)
		if err != nil {
			checkError(t, err)
			return
		}
		checkMedia(t, m, offered)
	})
}
