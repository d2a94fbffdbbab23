package transfer

import (
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
)

// An agent's request overrides what the target URI left at its defaults,
// within the same limits, and a value that could not go into a SIP
// request is refused by Validate before anything is sent.
func TestApplyRequest(t *testing.T) {
	base, err := ParseTarget("sip:sales@example.com")
	if err != nil {
		t.Fatal(err)
	}
	tt := base
	applyRequest(&tt, agent.TransferRequest{Timeout: time.Hour, TimeLimit: 48 * time.Hour, CallerID: "+15550100",
		Username: "u", Password: "p", AnswerOnBridge: true, HangupOnStar: true})
	if tt.Timeout != MaxTimeout || tt.TimeLimit != MaxTimeLimit || tt.CallerID != "+15550100" ||
		tt.Username != "u" || tt.Password != "p" || !tt.AnswerOnBridge || !tt.HangupOnStar {
		t.Errorf("applied target %+v", tt)
	}
	if err := tt.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}

	kept := base
	applyRequest(&kept, agent.TransferRequest{})
	if kept.Timeout != DefaultTimeout || kept.TimeLimit != DefaultTimeLimit || kept.CallerID != "" || kept.AnswerOnBridge {
		t.Errorf("an empty request changed the target: %+v", kept)
	}

	bad := base
	applyRequest(&bad, agent.TransferRequest{CallerID: "x>\r\nVia: evil"})
	if err := bad.Validate(); err == nil {
		t.Error("a caller ID with CRLF passed Validate")
	}
}
