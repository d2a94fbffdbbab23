package transfer

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/sip"
)

// Service carries out agents' transfer requests for a sip.Server (it is
// its sip.Transferrer): it parses the target, checks it against the
// allow-list, and hands the caller over with REFER or bridges a new call
// to the target.
type Service struct {
	policy      *Policy
	defaultMode Mode
	log         *slog.Logger
	stats       transferStats
}

// NewService returns a Service that forwards only to targets policy
// allows, in defaultMode when a request names none (ModeAuto if empty).
func NewService(policy *Policy, defaultMode Mode, log *slog.Logger) *Service {
	if defaultMode == "" {
		defaultMode = ModeAuto
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{policy: policy, defaultMode: defaultMode, log: log}
}

var _ sip.Transferrer = (*Service)(nil)

// Transfer forwards c as req asks. The result is in TwiML's words; an
// error says why a transfer was not even tried (a bad or forbidden
// target, an unsupported mode), and the call stays with the agent.
// After a completed REFER the call is ended: the caller is talking to
// the target now.
func (s *Service) Transfer(ctx context.Context, c *sip.Call, req agent.TransferRequest) (result agent.TransferResult, err error) {
	log := s.log.With("call_id", c.Info().CallID)
	var mode Mode // how the transfer is tried, once that is decided
	defer func() { s.count(mode, req, result, err) }()
	if req.TwiML != "" {
		instrs, err := ParseTwiML([]byte(req.TwiML))
		if err == nil && len(instrs) != 1 {
			err = &TwiMLError{Reason: fmt.Sprintf("want one <Dial> or <Refer>, got %d", len(instrs))}
		}
		if err != nil {
			log.Warn("transfer refused: bad TwiML", "error", err)
			return agent.TransferResult{Status: "failed"}, err
		}
		req = instrs[0].Request()
	}
	t, err := ParseTarget(req.Target)
	if err != nil {
		log.Warn("transfer refused: bad target", "error", err)
		return agent.TransferResult{Status: "failed"}, err
	}
	// The allow-list is the toll-fraud guard: nothing is sent for a
	// target outside it, whoever asked.
	if err := s.policy.Allow(t); err != nil {
		log.Warn("transfer refused: target not in transfer.allow", "target", t.String())
		return agent.TransferResult{Status: "failed"}, err
	}
	applyRequest(&t, req)
	if err := t.Validate(); err != nil {
		log.Warn("transfer refused: bad request", "error", err)
		return agent.TransferResult{Status: "failed"}, err
	}
	mode, err = ParseMode(req.Mode)
	if err != nil {
		return agent.TransferResult{Status: "failed"}, err
	}
	if mode == "" {
		mode = s.defaultMode
	}
	if t.Client != "" {
		// The caller cannot reach a phone registered here: only
		// sipagent can, through the flow its REGISTER opened.
		if mode == ModeRefer {
			return agent.TransferResult{Status: "failed"}, fmt.Errorf("transfer: %s: a registered user is reached by bridging, not by REFER", t.String())
		}
		mode = ModeBridge
	}
	if mode == ModeBridge {
		return s.bridge(ctx, c, t)
	}

	// REFER needs a dialog: a call still ringing is answered first.
	if err := c.Answer(ctx); err != nil {
		return agent.TransferResult{Status: "failed"}, err
	}
	log.Info("transferring with REFER", "target", t.String(), "mode", mode)
	res, err := c.Refer(ctx, t.ReferTo())
	if err != nil {
		return agent.TransferResult{Status: "failed"}, fmt.Errorf("transfer: %w", err)
	}
	out := agent.TransferResult{Status: res.Status, SIPCode: res.NotifyCode}
	if res.NotifyCode == 0 {
		out.SIPCode = res.ReferCode
	}
	switch {
	case res.Status == "completed":
		c.Hangup("transferred")
	case mode == ModeAuto && res.ReferCode >= 300:
		log.Info("caller refused REFER; bridging instead", "refer_code", res.ReferCode)
		mode = ModeBridge
		return s.bridge(ctx, c, t)
	}
	log.Info("transfer ended", "target", t.String(), "status", out.Status, "sip_code", out.SIPCode)
	return out, nil
}

// applyRequest lays what the agent's request says over the target
// parsed from its URI; zero fields leave the target's values.
func applyRequest(t *Target, req agent.TransferRequest) {
	if req.Timeout > 0 {
		t.Timeout = min(req.Timeout, MaxTimeout)
	}
	if req.TimeLimit > 0 {
		t.TimeLimit = min(req.TimeLimit, MaxTimeLimit)
	}
	if req.CallerID != "" {
		t.CallerID = req.CallerID
	}
	if req.Username != "" {
		t.Username, t.Password = req.Username, req.Password
	}
	t.AnswerOnBridge = t.AnswerOnBridge || req.AnswerOnBridge
	t.HangupOnStar = t.HangupOnStar || req.HangupOnStar
}

// ReferTarget checks a Refer-To value from a REFER the far end sent:
// the same parsing and allow-list as an agent's transfer, so a REFER can
// make sipagent dial only where transfer.allow lets it.
func (s *Service) ReferTarget(referTo string) (sip.DialRequest, error) {
	v := strings.TrimSpace(referTo)
	if strings.HasPrefix(v, "<") {
		end := strings.IndexByte(v, '>')
		if end < 0 {
			return sip.DialRequest{}, fmt.Errorf("transfer: Refer-To %.64q: no closing '>'", referTo)
		}
		v = v[1:end]
	}
	t, err := ParseTarget(v)
	if err != nil {
		return sip.DialRequest{}, err
	}
	if t.Client != "" {
		return sip.DialRequest{}, fmt.Errorf("transfer: Refer-To %s: not a SIP URI", t.String())
	}
	if err := s.policy.Allow(t); err != nil {
		s.log.Warn("REFER refused: target not in transfer.allow", "target", t.String())
		return sip.DialRequest{}, err
	}
	if t.Secure {
		return sip.DialRequest{}, errSecure
	}
	if err := checkTLS(t); err != nil {
		return sip.DialRequest{}, err
	}
	return dialRequest(t), nil
}
