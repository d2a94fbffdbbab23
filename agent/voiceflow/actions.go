package voiceflow

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/twiml"
)

// action carries out a custom action and names the request that resumes
// the conversation: the event type of the path its outcome picks.
func (s *session) action(ctx context.Context, t Trace) (step, error) {
	switch t.Type {
	case "twiml":
		return s.twiml(ctx, t)
	case "forward-call":
		var p struct {
			Number string `json:"number"`
		}
		body := t.text()
		if err := json.Unmarshal([]byte(body), &p); err != nil || !isNumber(p.Number) || s.a.cfg.ForwardTo == "" {
			s.log.Warn("forward-call not carried out", "body", body, "forward_to_set", s.a.cfg.ForwardTo != "")
			return s.resume(t, "failed", "fail", "failure")
		}
		target := strings.ReplaceAll(s.a.cfg.ForwardTo, "{number}", p.Number)
		return s.transfer(ctx, t, agent.TransferRequest{Target: target})
	case "DTMF":
		d, ok, err := s.key(ctx, s.a.cfg.NoInput)
		if err != nil {
			return step{}, err
		}
		if !ok {
			return s.resume(t, s.a.cfg.NoInputEvent, "timeout")
		}
		return s.resume(t, "DTMF "+string(d))
	case "interruption":
		var p struct {
			AllowInterrupts *bool `json:"allowInterrupts"`
		}
		if json.Unmarshal([]byte(t.text()), &p) == nil && p.AllowInterrupts != nil {
			s.bargeIn = *p.AllowInterrupts
		}
		return s.resume(t)
	}
	s.log.Info("custom action not known to sipagent; taking its default path", "action", t.Type)
	return s.resume(t)
}

// twiml runs a twiml action's document: forwarding verbs through the
// transfer service (so that the outcome picks the path), anything else
// with the TwiML agent.
func (s *session) twiml(ctx context.Context, t Trace) (step, error) {
	doc := strings.TrimSpace(t.text())
	verbs, err := twiml.Parse([]byte(doc))
	if err != nil {
		s.log.Warn("twiml action refused", "error", err)
		return s.resume(t, "failed", "fail", "failure")
	}
	if len(verbs) == 1 {
		if fw, ok := verbs[0].(*twiml.Forward); ok {
			return s.transfer(ctx, t, agent.TransferRequest{TwiML: fw.TwiML})
		}
	}
	cfg := s.a.cfg.TwiML
	cfg.Document = []byte(doc)
	ta, err := twiml.New(cfg)
	if err != nil {
		return s.resume(t, "failed", "fail", "failure")
	}
	if err := ta.Serve(ctx, s.call); err != nil {
		return step{}, err
	}
	for _, v := range verbs {
		switch v.(type) {
		case *twiml.Hangup, *twiml.Reject:
			return step{end: true}, nil
		}
	}
	return s.resume(t)
}

// transfer forwards the call and resumes with the path named after the
// outcome (completed, busy, no-answer, failed; or success/fail). A
// completed transfer with no path to resume ends the call: the caller has
// been with the target.
func (s *session) transfer(ctx context.Context, t Trace, req agent.TransferRequest) (step, error) {
	res, err := s.call.Transfer(ctx, req)
	if hungUp(ctx, err) {
		return step{}, agent.ErrHangup
	}
	if err != nil {
		s.log.Warn("forwarding refused", "error", err)
		res.Status = "failed"
	}
	s.log.Info("forwarded", "status", res.Status, "sip_code", res.SIPCode)
	if res.Status == "completed" {
		for _, p := range []string{"completed", "success"} {
			if t.hasPath(p) {
				return step{next: &action{Type: p}}, nil
			}
		}
		return step{end: true}, nil
	}
	return s.resume(t, res.Status, "failed", "fail", "failure")
}

// resume names the request that takes the conversation on along the
// first of the paths named in want that the action has, else its
// default path. An action with no paths at all goes on with an empty
// event, which the runtime treats as going on.
func (s *session) resume(t Trace, want ...string) (step, error) {
	p := t.pathFor(want...)
	if p == "" {
		p = "continue"
	}
	return step{next: &action{Type: p}}, nil
}

// key waits up to d for one key press.
func (s *session) key(ctx context.Context, d time.Duration) (rune, bool, error) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case k, ok := <-s.call.DTMF():
		if !ok {
			return 0, false, agent.ErrHangup
		}
		return k, true, nil
	case <-timer.C:
		return 0, false, nil
	case <-ctx.Done():
		return 0, false, ctx.Err()
	}
}

// isNumber reports an E.164-like number: an optional + and 3-20 digits,
// so that nothing else can reach the forwarding template.
func isNumber(n string) bool {
	d := strings.TrimPrefix(n, "+")
	if len(d) < 3 || len(d) > 20 {
		return false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
