package transfer

import (
	"errors"
	"sync/atomic"

	"github.com/sipagent/sipagent/agent"
)

// Outcome is how a transfer ended, for counting: TwiML's DialCallStatus
// words, and a refusal by the allow-list.
type Outcome uint8

// Transfer outcomes.
const (
	OutcomeCompleted Outcome = iota // the target answered
	OutcomeBusy
	OutcomeNoAnswer
	OutcomeFailed // a bad request, a refused REFER, a failed bridge
	OutcomeCanceled
	OutcomeRefused // the target is not in transfer.allow: nothing was sent

	outcomes // the number of outcomes
)

var outcomeNames = [outcomes]string{
	OutcomeCompleted: "completed",
	OutcomeBusy:      "busy",
	OutcomeNoAnswer:  "no-answer",
	OutcomeFailed:    "failed",
	OutcomeCanceled:  "canceled",
	OutcomeRefused:   "refused-by-policy",
}

// String returns the outcome's label: completed, busy, no-answer,
// failed, canceled or refused-by-policy.
func (o Outcome) String() string {
	if o < outcomes {
		return outcomeNames[o]
	}
	return "unknown"
}

// TransferStats is a snapshot of a Service's counts of ended transfers,
// by mode and outcome (arrays indexed by Outcome). A transfer counts
// under the mode that decided its outcome: auto counts as refer, unless
// the caller refused the REFER and it was bridged instead. One refused
// before it was tried counts under the mode it asked for.
type TransferStats struct {
	Refer  [outcomes]uint64
	Bridge [outcomes]uint64
}

// transferStats are the counters behind TransferStats.
type transferStats struct {
	refer, bridge [outcomes]atomic.Uint64
}

// count counts a transfer that ended with res and err, tried in mode;
// one that ended before a mode was decided counts under the mode req
// asked for, or the default.
func (s *Service) count(mode Mode, req agent.TransferRequest, res agent.TransferResult, err error) {
	if mode == "" {
		mode = Mode(req.Mode)
	}
	if mode == "" {
		mode = s.defaultMode
	}
	counts := &s.stats.refer
	if mode == ModeBridge {
		counts = &s.stats.bridge
	}
	counts[outcomeOf(res, err)].Add(1)
}

// outcomeOf classifies what Transfer returned.
func outcomeOf(res agent.TransferResult, err error) Outcome {
	if _, denied := errors.AsType[*DeniedError](err); denied {
		return OutcomeRefused
	}
	switch res.Status {
	case "completed":
		return OutcomeCompleted
	case "busy":
		return OutcomeBusy
	case "no-answer":
		return OutcomeNoAnswer
	case "canceled":
		return OutcomeCanceled
	}
	return OutcomeFailed
}

// Stats returns how many transfers have ended, by mode and outcome.
func (s *Service) Stats() TransferStats {
	var out TransferStats
	for o := range outcomes {
		out.Refer[o] = s.stats.refer[o].Load()
		out.Bridge[o] = s.stats.bridge[o].Load()
	}
	return out
}
