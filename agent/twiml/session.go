package twiml

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sipagent/sipagent/agent"
)

// session is one call running a TwiML application.
type session struct {
	a        *Agent
	call     agent.Call
	info     agent.Info
	log      *slog.Logger
	docURL   string // the document being run, for relative URLs
	answered bool
	events   *statusEvents // nil without a status callback
}

// request is the next document to fetch.
type request struct {
	method, url string
	params      url.Values
}

// rejecter is a call that can refuse itself before it is answered (a
// *sip.Call).
type rejecter interface {
	Reject(ctx context.Context, code int) error
}

// run carries out verbs in order. It returns the next document to fetch,
// or nil when the call should end.
func (s *session) run(ctx context.Context, verbs []Verb) (*request, error) {
	for _, v := range verbs {
		next, done, err := s.verb(ctx, v)
		if err != nil || done {
			return next, err
		}
	}
	return nil, nil
}

// verb carries out one verb; done says the document stops here (a new
// document in next, or the end of the call).
func (s *session) verb(ctx context.Context, v Verb) (next *request, done bool, err error) {
	switch v := v.(type) {
	case *Say, *Play, *Pause:
		if err := s.answer(ctx); err != nil {
			return nil, true, err
		}
		return nil, false, s.prompt(ctx, v)
	case *Gather:
		if err := s.answer(ctx); err != nil {
			return nil, true, err
		}
		params, err := s.gatherInput(ctx, v)
		if err != nil || params == nil {
			return nil, err != nil, err // nothing entered: on to the next verb
		}
		next, err := s.action(v.Action, v.Method, params)
		return next, true, err
	case *Forward:
		return s.forward(ctx, v)
	case *Connect:
		return s.connect(ctx, v)
	case *Redirect:
		u, err := resolve(s.docURL, v.URL)
		return &request{method: v.Method, url: u}, true, err
	case *Hangup:
		return nil, true, nil
	case *Reject:
		return nil, true, s.reject(ctx, v)
	}
	return nil, true, fmt.Errorf("twiml: verb %T not handled", v)
}

// answer answers the call before a verb that talks or listens.
func (s *session) answer(ctx context.Context) error {
	if s.answered {
		return nil
	}
	if err := s.call.Answer(ctx); err != nil {
		return err
	}
	s.answered = true
	s.events.answered()
	return nil
}

func (s *session) reject(ctx context.Context, v *Reject) error {
	code := 603
	if v.Reason == "busy" {
		code = 486
	}
	r, ok := s.call.(rejecter)
	if !ok || s.answered {
		s.log.Info("<Reject> on an answered call hangs up")
		return nil
	}
	if err := r.Reject(ctx, code); err != nil {
		s.log.Info("<Reject> not sent; hanging up", "error", err)
	}
	return nil
}

// forward runs a <Dial> or <Refer> through the call's transfer service
// and reports the outcome to the verb's action, as DialCallStatus or
// ReferCallStatus. Without an action the document goes on, as Twilio's
// does after a <Dial>.
func (s *session) forward(ctx context.Context, v *Forward) (*request, bool, error) {
	res, err := s.call.Transfer(ctx, agent.TransferRequest{TwiML: v.TwiML})
	if errors.Is(err, agent.ErrHangup) || ctx.Err() != nil {
		return nil, true, agent.ErrHangup
	}
	if err != nil {
		s.log.Warn("forwarding refused", "verb", v.Name, "error", err)
		res.Status = "failed"
	}
	if res.Status == "completed" && !s.answered {
		s.answered = true // bridged or referred: answered either way
		s.events.answered()
	}
	if v.Action == "" {
		if v.Name == "Refer" && res.Status == "completed" {
			return nil, true, nil // the caller is with the target now
		}
		return nil, false, nil
	}
	prefix := "Dial"
	if v.Name == "Refer" {
		prefix = "Refer"
	}
	params := url.Values{prefix + "CallStatus": {res.Status}}
	if res.SIPCode != 0 {
		params.Set(prefix+"SipResponseCode", strconv.Itoa(res.SIPCode))
	}
	next, err := s.action(v.Action, v.Method, params)
	return next, true, err
}

// connect runs a <Connect><Stream>; when the stream ends the document
// goes on, or its action is fetched.
func (s *session) connect(ctx context.Context, v *Connect) (*request, bool, error) {
	if err := s.answer(ctx); err != nil {
		return nil, true, err
	}
	if s.a.cfg.Stream == nil {
		s.log.Warn("<Connect><Stream> skipped: no stream support configured")
		return nil, false, nil
	}
	if err := s.a.cfg.Stream(ctx, s.call, v.URL, v.Parameters); err != nil {
		if ctx.Err() != nil || errors.Is(err, agent.ErrHangup) {
			return nil, true, agent.ErrHangup
		}
		s.log.Info("stream ended", "url", v.URL, "error", err)
	}
	if v.Action == "" {
		return nil, false, nil
	}
	next, err := s.action(v.Action, v.Method, nil)
	return next, true, err
}

// action is the request for a verb's action URL: the verb's own
// parameters on top of the call's. An empty action means the current
// document's URL (Twilio's rule for <Gather>).
func (s *session) action(action, method string, params url.Values) (*request, error) {
	if action == "" {
		action = s.docURL
	}
	u, err := resolve(s.docURL, action)
	if err != nil {
		return nil, err
	}
	return &request{method: method, url: u, params: params}, nil
}

// fetch requests a document with the call's parameters and extra.
func (s *session) fetch(ctx context.Context, method, u string, extra url.Values) ([]byte, error) {
	params := s.params()
	for k, v := range extra {
		params[k] = v
	}
	ctx, cancel := context.WithTimeout(ctx, s.a.cfg.Timeout)
	defer cancel()
	s.log.Debug("fetching TwiML", "method", method, "url", u)
	return s.a.hook.fetch(ctx, method, u, params)
}

// params are the call's parameters as Twilio sends them with every
// request, SIP headers included (SipHeader_X-...: X- headers only, as
// Twilio passes them).
func (s *session) params() url.Values {
	i := s.info
	status := "ringing"
	if s.answered {
		status = "in-progress"
	}
	p := url.Values{
		"CallSid":    {i.CallSid()},
		"AccountSid": {s.a.cfg.AccountSid},
		"From":       {i.From},
		"To":         {i.To},
		"Caller":     {i.From},
		"Called":     {i.To},
		"CallStatus": {status},
		"Direction":  {direction(i)},
		"ApiVersion": {"2010-04-01"},
		"SipCallId":  {i.CallID},
	}
	if i.FromName != "" {
		p.Set("CallerName", i.FromName)
	}
	if i.Source.IsValid() {
		p.Set("SipSourceIp", i.Source.Addr().String())
	}
	for _, h := range i.Headers {
		if len(h.Name) > 2 && strings.EqualFold(h.Name[:2], "x-") {
			p.Add("SipHeader_"+h.Name, h.Value)
		}
	}
	return p
}

func direction(i agent.Info) string {
	if i.Direction == "" {
		return "inbound"
	}
	return i.Direction
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
