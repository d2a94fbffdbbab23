package flow

import (
	"context"
	"errors"
	"slices"

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
	entries, err := fields(at, n, []string{"target", "mode"})
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
				return nil, kat.errorf(e.value, "%q: want a sip:, sips: or tel: URI", a.req.Target)
			}
		case "mode":
			if a.req.Mode, err = text(kat, e.value); err != nil {
				return nil, err
			}
			if !slices.Contains(transferModes, a.req.Mode) {
				return nil, kat.errorf(e.value, "%q: want refer, bridge or auto", a.req.Mode)
			}
		}
	}
	return a, nil
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
