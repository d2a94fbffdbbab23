package flow

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sipagent/sipagent/agent"
)

// transferAction asks the call to be forwarded.
type transferAction struct {
	req agent.TransferRequest // Target "" means the agent's configured one
}

// transferModes are the modes agent.TransferRequest knows.
var transferModes = []string{"refer", "bridge", "auto"}

func parseTransfer(at where, n *yaml.Node) (*transferAction, error) {
	entries, err := fields(at, n, []string{"target", "mode", "timeout", "time_limit", "caller_id", "answer_on_bridge", "hangup_on_star"})
	if err != nil {
		return nil, err
	}
	a := &transferAction{}
	for _, e := range entries {
		kat := at.in(e.key)
		switch e.key {
		case "target":
			if a.req.Target, err = text(kat, e.value); err != nil {
				return nil, err
			}
			if !validTarget(a.req.Target) {
				return nil, kat.errorf(e.value, "%q: want a sip:, sips: or tel: URI, or client:NAME", a.req.Target)
			}
		case "mode":
			if a.req.Mode, err = text(kat, e.value); err != nil {
				return nil, err
			}
			if !slices.Contains(transferModes, a.req.Mode) {
				return nil, kat.errorf(e.value, "%q: want refer, bridge or auto", a.req.Mode)
			}
		case "timeout":
			// TwiML <Dial timeout> allows 5 s to 600 s.
			if a.req.Timeout, err = duration(kat, e.value, 5*time.Second, 600*time.Second); err != nil {
				return nil, err
			}
		case "time_limit":
			if a.req.TimeLimit, err = duration(kat, e.value, time.Second, 24*time.Hour); err != nil {
				return nil, err
			}
		case "caller_id":
			if a.req.CallerID, err = text(kat, e.value); err != nil {
				return nil, err
			}
			if !validCallerID(a.req.CallerID) {
				return nil, kat.errorf(e.value, "%q: want up to 64 letters, digits and +-_.", a.req.CallerID)
			}
		case "answer_on_bridge":
			if a.req.AnswerOnBridge, err = boolean(kat, e.value); err != nil {
				return nil, err
			}
		case "hangup_on_star":
			if a.req.HangupOnStar, err = boolean(kat, e.value); err != nil {
				return nil, err
			}
		}
	}
	return a, nil
}

// validCallerID reports whether id can be a SIP From user as TwiML
// <Dial callerId> allows it: letters, digits and +-_. (the transfer
// service checks it again).
func validCallerID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	allowed := func(r rune) bool {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("+-_.", r)
	}
	for _, r := range id {
		if !allowed(r) {
			return false
		}
	}
	return true
}

// run requests the transfer. Anything but a completed transfer is a
// failure, routed to on_failure; only the call ending is an error.
func (a *transferAction) run(ctx context.Context, s *session) (outcome, error) {
	req := a.req
	if req.Target == "" {
		req.Target = s.transferTarget
	}
	if req.Mode == "" {
		req.Mode = s.transferMode
	}
	if req.Target == "" {
		s.log.Info("flow transfer not possible", "err", ErrNoTransferTarget)
		return outcome{failed: true}, nil
	}
	res, err := s.call.Transfer(ctx, req)
	switch {
	case err != nil && (ctx.Err() != nil || errors.Is(err, agent.ErrHangup)):
		return outcome{}, err
	case err != nil:
		s.log.Info("flow transfer failed", "target", req.Target, "err", err)
		return outcome{failed: true}, nil
	case res.Status != "completed":
		s.log.Info("flow transfer failed", "target", req.Target, "status", res.Status, "sip_code", res.SIPCode)
		return outcome{failed: true}, nil
	}
	return outcome{waited: true}, nil
}
