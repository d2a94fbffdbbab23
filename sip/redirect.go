package sip

import (
	"errors"

	"github.com/sipagent/sipagent/agent"
)

// ErrCallEnded is returned for a call that has ended.
var ErrCallEnded = errors.New("sip: the call has ended")

// Redirect hands the call to ag, as Twilio's live-call update with new
// TwiML does: the agent in charge is stopped and ag runs on the call
// from here on. It returns ErrCallEnded once the call is over.
func (c *Call) Redirect(ag agent.Agent) error {
	select {
	case <-c.done:
		return ErrCallEnded
	default:
	}
	select {
	case c.redirect <- ag:
		return nil
	case <-c.done:
		return ErrCallEnded
	}
}
