package flow

import (
	"context"
	"time"
)

// Flow is a parsed, checked flow with its prompts loaded. It is immutable
// and may serve any number of calls at once.
type Flow struct {
	start   string
	steps   map[string]*step
	order   []string // step names in file order
	sayStep string   // first step that says text, "" if none
}

// Start returns the name of the first step.
func (f *Flow) Start() string { return f.start }

// Steps returns the step names in file order.
func (f *Flow) Steps() []string { return append([]string(nil), f.order...) }

// step is one node of the flow: an action and where to go after it.
type step struct {
	name string
	act  action
	// next is where to go after the action. For a gather it is the
	// fallback for outcomes branch does not route; for a transfer, the
	// route after success (and after failure without onFailure).
	next      string
	onFailure string            // transfer only
	branch    map[string]string // gather only: digits to step
	onDefault string            // gather only: digits not in branch
	onTimeout string            // gather only: nothing entered
}

// outcome is what running an action produced, for routing.
type outcome struct {
	gathered bool   // a gather ran; digits holds what was entered
	digits   string // "" when nothing was entered
	failed   bool   // a transfer failed
	hangup   bool   // the flow ends the call
	waited   bool   // the step played audio or waited for the caller
}

// route returns the step to run after this one produced o.
func (s *step) route(o outcome) string {
	switch {
	case o.failed && s.onFailure != "":
		return s.onFailure
	case o.gathered && o.digits == "" && s.onTimeout != "":
		return s.onTimeout
	case o.gathered && o.digits != "":
		if to, ok := s.branch[o.digits]; ok {
			return to
		}
		if s.onDefault != "" {
			return s.onDefault
		}
	}
	return s.next
}

// targets returns every step this one can go to.
func (s *step) targets() []string {
	var t []string
	for _, name := range []string{s.next, s.onFailure, s.onDefault, s.onTimeout} {
		if name != "" {
			t = append(t, name)
		}
	}
	for _, name := range s.branch {
		t = append(t, name)
	}
	return t
}

// prompt is audio to play: a WAV file loaded at parse time, or text to
// say through the synthesizer at run time.
type prompt struct {
	file string
	pcm  []int16
	text string
}

// action is what a step does. The concrete types are in the run_*.go
// files, beside the code that runs them.
type action interface {
	run(ctx context.Context, s *session) (outcome, error)
}

// Limits on values in a flow file.
const (
	minDuration    = time.Millisecond
	maxDuration    = 10 * time.Minute
	maxDigits      = 32
	maxAttempts    = 10
	maxEchoDelay   = 2 * time.Second
	defaultTimeout = 5 * time.Second
)

// saysText reports whether a needs a speech synthesizer.
func saysText(a action) bool {
	switch a := a.(type) {
	case *playAction:
		return a.prompt.text != ""
	case *gatherAction:
		return a.prompt != nil && a.prompt.text != ""
	}
	return false
}
