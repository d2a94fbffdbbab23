package sip

import "time"

// CallStatus is what the live-call API shows of a call.
type CallStatus struct {
	Sid       string // Twilio-style call SID (agent.Info.CallSid)
	CallID    string
	From, To  string
	Direction string // inbound, outbound-api or outbound-dial
	Status    string // ringing or in-progress
	Start     time.Time
}

// Calls lists the calls in progress or ringing, in no order.
func (s *Server) Calls() []CallStatus {
	calls := s.calls.all()
	out := make([]CallStatus, 0, len(calls))
	for _, c := range calls {
		out = append(out, c.status())
	}
	return out
}

// CallBySid returns the live call with the given SID, or nil.
func (s *Server) CallBySid(sid string) *Call {
	for _, c := range s.calls.all() {
		if c.Info().CallSid() == sid {
			return c
		}
	}
	return nil
}

func (c *Call) status() CallStatus {
	info := c.Info()
	st := CallStatus{Sid: info.CallSid(), CallID: info.CallID, From: info.From, To: info.To,
		Direction: info.Direction, Status: "ringing", Start: c.start}
	if c.Answered() {
		st.Status = "in-progress"
	}
	return st
}
