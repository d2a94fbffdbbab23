package config

import (
	"fmt"

	"github.com/sipagent/sipagent/transfer"
)

// TransferPolicy returns transfer.allow as a policy. Call it after
// Validate.
func (c *Config) TransferPolicy() *transfer.Policy {
	p, _ := transfer.NewPolicy(c.Transfer.Allow)
	return p
}

// validateForward checks a flow agent's forward_to and forward_mode: the
// target must parse and be allowed, so that the demo's option 2 cannot
// be configured to fail on every call.
func (c *Config) validateForward(key string, a Agent) error {
	policy, err := transfer.NewPolicy(c.Transfer.Allow)
	if err != nil {
		return &Error{Key: "transfer.allow", Msg: err.Error()}
	}
	if _, err := transfer.ParseMode(a.ForwardMode); err != nil {
		return &Error{Key: key + ".forward_mode", Msg: fmt.Sprintf("%q is not one of refer, bridge, auto", a.ForwardMode)}
	}
	if a.ForwardTo == "" {
		if a.ForwardMode != "" {
			return &Error{Key: key + ".forward_mode", Msg: "set without forward_to"}
		}
		return nil
	}
	t, err := transfer.ParseTarget(a.ForwardTo)
	if err != nil {
		return &Error{Key: key + ".forward_to", Msg: err.Error()}
	}
	if err := policy.Allow(t); err != nil {
		return &Error{Key: key + ".forward_to", Msg: fmt.Sprintf("%s is not in transfer.allow, so every forward would be refused", t.String())}
	}
	return nil
}
