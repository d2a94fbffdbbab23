package flow

import (
	"errors"
	"fmt"
	"strings"
)

// Errors a flow agent returns.
var (
	// ErrNoSynthesizer means a flow says text but was given no
	// speech.Synthesizer.
	ErrNoSynthesizer = errors.New("no speech synthesizer configured (flow.WithSynthesizer)")
	// ErrNoTransferTarget means a transfer step names no target and none
	// was configured with WithTransferTarget. The step takes its
	// on_failure route.
	ErrNoTransferTarget = errors.New("no transfer target configured")
	// ErrNoProgress means the flow ran many steps in a row without
	// playing, pausing or listening: a loop of failing transfers, say.
	// The call is ended rather than spun.
	ErrNoProgress = errors.New("steps in a row without playing or waiting; is there a loop?")
)

// ParseError describes a mistake in a flow file.
type ParseError struct {
	Step string // the step, or "" for the top level
	Key  string // where in the step, e.g. "gather: timeout"; "" for the step itself
	Line int    // line in the file, 0 if unknown
	Msg  string
}

// Error reads like `flow: step "menu": branch: unknown step "ech" (line 9)`.
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("flow: ")
	if e.Step != "" {
		fmt.Fprintf(&b, "step %q: ", e.Step)
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", e.Line)
	}
	return b.String()
}
