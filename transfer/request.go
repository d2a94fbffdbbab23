package transfer

import (
	"strings"

	"github.com/sipagent/sipagent/agent"
)

// Request turns a parsed <Dial> or <Refer> into the transfer request an
// agent hands its call: the <Sip> URI with its parameters and headers,
// the mode of the verb, and the attributes the request carries (ring
// timeout, time limit, caller ID, answerOnBridge, hangupOnStar, the
// target's credentials).
func (in Instruction) Request() agent.TransferRequest {
	t := in.Target
	var b strings.Builder
	b.WriteString(t.String())
	writeHeaders(&b, t.Headers)
	return agent.TransferRequest{
		Target:         b.String(),
		Mode:           string(t.Mode),
		Timeout:        t.Timeout,
		TimeLimit:      t.TimeLimit,
		CallerID:       t.CallerID,
		AnswerOnBridge: t.AnswerOnBridge,
		HangupOnStar:   t.HangupOnStar,
		Username:       t.Username,
		Password:       t.Password,
	}
}
