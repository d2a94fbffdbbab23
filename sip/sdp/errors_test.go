package sdp

import (
	"errors"
	"fmt"
	"strconv"
	"testing"
)

func warning(code int, text string) string {
	return strconv.Itoa(code) + " sipagent " + strconv.Quote(text)
}

func TestErrorResponses(t *testing.T) {
	for _, tc := range []struct {
		sentinel error
		code     int
		warning  string
	}{
		{ErrMalformed, 400, `399 sipagent "Malformed session description"`},
		{ErrUnknownLine, 488, `307 sipagent "Session description parameter not understood"`},
		{ErrNoAudio, 488, `304 sipagent "Media type not available"`},
		{ErrTransport, 488, `302 sipagent "Incompatible transport protocol"`},
		{ErrAddress, 488, `301 sipagent "Incompatible network address formats"`},
		{ErrNoCodec, 488, `305 sipagent "Incompatible media format"`},
		{errors.New("other"), 488, `399 sipagent "Miscellaneous warning"`},
	} {
		err := fail(tc.sentinel, "detail %d", 42)
		if err.Code != tc.code || err.Warning != tc.warning {
			t.Errorf("%v: %d %s, want %d %s", tc.sentinel, err.Code, err.Warning, tc.code, tc.warning)
		}
		if want := tc.sentinel.Error() + ": detail 42"; err.Error() != want {
			t.Errorf("Error() = %q, want %q", err.Error(), want)
		}
		wrapped := fmt.Errorf("invite: %w", err)
		var e *Error
		if !errors.Is(wrapped, tc.sentinel) || !errors.As(wrapped, &e) || e != err {
			t.Errorf("%v: not found through wrapping", tc.sentinel)
		}
	}
}
