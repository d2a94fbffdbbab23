package flow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/speech"
)

// maxIdleSteps is how many steps in a row may run without playing audio
// or waiting before the flow is taken to be looping.
const maxIdleSteps = 16

// Agent runs a Flow on calls. It implements agent.Agent.
type Agent struct {
	flow           *Flow
	synth          speech.Synthesizer
	log            *slog.Logger
	clock          Clock
	transferTarget string
	transferMode   string
}

var _ agent.Agent = (*Agent)(nil)

// Option configures an Agent.
type Option func(*Agent)

// WithSynthesizer sets the synthesizer for say steps. A flow with say
// steps needs one; wrapping it in a speech.Cache is wise, since flows say
// the same things on every call.
func WithSynthesizer(s speech.Synthesizer) Option { return func(a *Agent) { a.synth = s } }

// WithLogger sets the logger for step transitions (at debug level) and
// failed transfers. The default discards everything.
func WithLogger(l *slog.Logger) Option { return func(a *Agent) { a.log = l } }

// WithClock sets the clock timers come from. The default is real time.
func WithClock(c Clock) Option { return func(a *Agent) { a.clock = c } }

// WithTransferTarget sets the SIP URI that transfer steps without a target
// of their own forward to. Without one such steps fail with
// ErrNoTransferTarget and take their on_failure route.
func WithTransferTarget(uri string) Option { return func(a *Agent) { a.transferTarget = uri } }

// WithTransferMode sets the mode (refer, bridge or auto) of transfer
// steps that name none; without it they leave the choice to the server.
func WithTransferMode(mode string) Option { return func(a *Agent) { a.transferMode = mode } }

// New returns an agent that runs f on each call it serves. It fails if f
// says text and no synthesizer is given, so the mistake shows at start-up
// rather than on a call.
func New(f *Flow, opts ...Option) (*Agent, error) {
	a := &Agent{flow: f, clock: systemClock{}, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(a)
	}
	if f.sayStep != "" && a.synth == nil {
		return nil, fmt.Errorf("flow: step %q: say: %w", f.sayStep, ErrNoSynthesizer)
	}
	if a.transferTarget != "" && !validTarget(a.transferTarget) {
		return nil, fmt.Errorf("flow: transfer target %q: want a sip:, sips: or tel: URI, or client:NAME", a.transferTarget)
	}
	if a.transferMode != "" && !slices.Contains(transferModes, a.transferMode) {
		return nil, fmt.Errorf("flow: transfer mode %q: want refer, bridge or auto", a.transferMode)
	}
	return a, nil
}

// DeferAnswer reports whether the flow starts by forwarding the call with
// answer_on_bridge: such a call is left ringing (agent.AnswerDeferrer),
// and is answered when the target answers, or by the first step that
// plays audio or listens if the transfer fails.
func (a *Agent) DeferAnswer(agent.Info) bool {
	ta, ok := a.flow.steps[a.flow.start].act.(*transferAction)
	return ok && ta.req.AnswerOnBridge
}

var _ agent.AnswerDeferrer = (*Agent)(nil)

// Serve runs the flow from its start step until a hangup step, the caller
// hanging up, or an error. The caller hanging up is not an error.
func (a *Agent) Serve(ctx context.Context, call agent.Call) error {
	s := &session{
		call:           call,
		dtmf:           call.DTMF(),
		synth:          a.synth,
		clock:          a.clock,
		log:            a.log.With("call_id", call.Info().CallID),
		transferTarget: a.transferTarget,
		transferMode:   a.transferMode,
	}
	name, idle := a.flow.start, 0
	for {
		if ctx.Err() != nil {
			return nil
		}
		st := a.flow.steps[name]
		s.log.Debug("flow step", "step", name)
		out, err := st.act.run(ctx, s)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, agent.ErrHangup) {
				return nil
			}
			return fmt.Errorf("flow: step %q: %w", name, err)
		}
		if out.hangup {
			return nil
		}
		if out.waited {
			idle = 0
		} else if idle++; idle >= maxIdleSteps {
			return fmt.Errorf("flow: step %q: %d %w", name, idle, ErrNoProgress)
		}
		name = st.route(out)
	}
}

// validTarget reports whether uri looks like a URI a call can go to.
func validTarget(uri string) bool {
	scheme, rest, ok := strings.Cut(uri, ":")
	if !ok || rest == "" || strings.ContainsFunc(uri, func(r rune) bool { return r <= ' ' }) {
		return false
	}
	switch strings.ToLower(scheme) {
	case "sip", "sips", "tel", "client":
		return true
	}
	return false
}
