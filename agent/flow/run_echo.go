package flow

import (
	"context"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sipagent/sipagent/agent/echo"
)

// echoAction plays the caller's voice back until a key or a duration.
type echoAction struct {
	duration time.Duration // 0: no limit
	key      rune          // 0: none
	delay    time.Duration
}

func parseEcho(at where, n *yaml.Node) (*echoAction, error) {
	entries, err := fields(at, n, []string{"duration", "until_key", "delay"})
	if err != nil {
		return nil, err
	}
	a := &echoAction{delay: echo.DefaultDelay}
	for _, e := range entries {
		kat := at.in(e.key)
		switch e.key {
		case "duration":
			a.duration, err = duration(kat, e.value, minDuration, maxDuration)
		case "until_key":
			a.key, err = key(kat, e.value)
		case "delay":
			a.delay, err = duration(kat, e.value, 0, maxEchoDelay)
		}
		if err != nil {
			return nil, err
		}
	}
	if a.duration == 0 && a.key == 0 {
		return nil, at.errorf(n, "want duration or until_key, or both: something must end the echo")
	}
	return a, nil
}

func (a *echoAction) run(ctx context.Context, s *session) (outcome, error) {
	stop := echo.Stop{Key: a.key}
	if a.duration > 0 {
		t := s.clock.NewTimer(a.duration)
		defer t.Stop()
		stop.After = t.C()
	}
	if err := echo.Run(ctx, s.call, a.delay, stop); err != nil {
		return outcome{}, err
	}
	return outcome{waited: true}, nil
}
