package transfer

import (
	"context"
	"errors"
	"testing"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/sip"
)

// Transfers refused before anything is sent count under the mode they
// asked for (the default when none), a forbidden target as
// refused-by-policy and a malformed one as failed. None of them touches
// the call, so a zero sip.Call stands in for one.
func TestStatsCountRefusals(t *testing.T) {
	policy, err := NewPolicy([]string{"example.com"})
	if err != nil {
		t.Fatal(err)
	}
	s := NewService(policy, ModeAuto, nil)
	for _, req := range []agent.TransferRequest{
		{Target: "sip:sales@evil.example"},                  // refer (auto), refused
		{Target: "sip:sales@evil.example", Mode: "refer"},   // refer, refused
		{Target: "sip:sales@evil.example", Mode: "bridge"},  // bridge, refused
		{Target: "http://example.com/", Mode: "bridge"},     // bridge, failed
		{Target: "sip:sales@example.com", Mode: "teleport"}, // refer, failed
	} {
		if res, err := s.Transfer(context.Background(), &sip.Call{}, req); err == nil || res.Status != "failed" {
			t.Errorf("%+v: %+v, %v; want failed with an error", req, res, err)
		}
	}
	var want TransferStats
	want.Refer[OutcomeRefused] = 2
	want.Refer[OutcomeFailed] = 1
	want.Bridge[OutcomeRefused] = 1
	want.Bridge[OutcomeFailed] = 1
	if got := s.Stats(); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
}

func TestOutcomeOf(t *testing.T) {
	tests := []struct {
		status string
		err    error
		want   Outcome
	}{
		{"completed", nil, OutcomeCompleted},
		{"busy", nil, OutcomeBusy},
		{"no-answer", nil, OutcomeNoAnswer},
		{"canceled", nil, OutcomeCanceled},
		{"failed", nil, OutcomeFailed},
		{"failed", errors.New("transfer: refused REFER"), OutcomeFailed},
		{"failed", &DeniedError{Target: "sip:x@evil.example"}, OutcomeRefused},
		{"", nil, OutcomeFailed},
	}
	for _, tt := range tests {
		if got := outcomeOf(agent.TransferResult{Status: tt.status}, tt.err); got != tt.want {
			t.Errorf("outcomeOf(%q, %v) = %s, want %s", tt.status, tt.err, got, tt.want)
		}
	}
	if got := Outcome(200).String(); got != "unknown" {
		t.Errorf("an outcome out of range is %q", got)
	}
}
