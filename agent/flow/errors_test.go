package flow

import "testing"

func TestParseErrorText(t *testing.T) {
	tests := []struct {
		err  ParseError
		want string
	}{
		{ParseError{Msg: "empty file"}, "flow: empty file"},
		{ParseError{Key: "start", Line: 1, Msg: `unknown step "b"`}, `flow: start: unknown step "b" (line 1)`},
		{ParseError{Step: "menu", Key: "gather: timeout", Line: 7, Msg: "bad"}, `flow: step "menu": gather: timeout: bad (line 7)`},
		{ParseError{Step: "a", Msg: "missing next"}, `flow: step "a": missing next`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}
