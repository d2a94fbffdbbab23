package sdp

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	psdp "github.com/pion/sdp/v3"
)

// readTestdata returns testdata/name. The files are stored with LF line
// endings; lineVariants turns them into what peers send.
func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// mustReadTestdata is readTestdata for building case tables.
func mustReadTestdata(name string) string {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		panic(err)
	}
	return string(b)
}

// lineVariants returns s with the line endings and blanks peers use: as
// stored (LF), CRLF, CRLF without the final CRLF, and trailing blanks.
func lineVariants(s string) map[string]string {
	lf := strings.ReplaceAll(s, "\r\n", "\n")
	crlf := strings.ReplaceAll(lf, "\n", "\r\n")
	return map[string]string{
		"lf":              lf,
		"crlf":            crlf,
		"no-final-crlf":   strings.TrimSuffix(crlf, "\r\n"),
		"trailing-blanks": strings.ReplaceAll(crlf, "\r\n", " \t\r\n"),
	}
}

// unmarshal parses our own output with pion/sdp alone, as a peer using it
// would.
func unmarshal(t testing.TB, b []byte) *psdp.SessionDescription {
	t.Helper()
	if !strings.HasSuffix(string(b), "\r\n") || strings.Contains(strings.ReplaceAll(string(b), "\r\n", ""), "\n") {
		t.Errorf("description does not use CRLF line endings:\n%s", b)
	}
	sd := new(psdp.SessionDescription)
	if err := sd.Unmarshal(b); err != nil {
		t.Fatalf("pion/sdp cannot parse our description: %v\n%s", err, b)
	}
	return sd
}

func attr(attrs []psdp.Attribute, key string) (string, bool) {
	return findAttr(attrs, key)
}

// attrsWithKey returns the values of all attributes named key.
func attrsWithKey(attrs []psdp.Attribute, key string) []string {
	var out []string
	for _, a := range attrs {
		if a.Key == key {
			out = append(out, a.Value)
		}
	}
	return out
}

// wantError checks that err is an *Error for sentinel with code and
// warning.
func wantError(t *testing.T, err, sentinel error, code int, warning string) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("err = %v, want %v", err, sentinel)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %T, want *Error", err)
	}
	if e.Code != code || e.Warning != warning {
		t.Errorf("Code, Warning = %d, %s; want %d, %s", e.Code, e.Warning, code, warning)
	}
}

var (
	local4 = Local{
		Addr:      netip.MustParseAddr("198.51.100.1"),
		Port:      40000,
		SessionID: 1<<64 - 1, // the top bit must be cleared
		Version:   7,
		Username:  "sipagent",
	}
	local6 = Local{
		Addr:      netip.MustParseAddr("2001:db8::1"),
		Port:      40002,
		SessionID: 12345,
		Version:   1,
	}
)
