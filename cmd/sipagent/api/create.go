package api

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/sip"
	"github.com/sipagent/sipagent/transfer"
)

// Ring timeouts a created call may ask for (Timeout=, seconds).
const (
	minTimeout     = 5 * time.Second
	maxTimeout     = 600 * time.Second
	defaultTimeout = 30 * time.Second
	// dialSlack is what a dial may take beyond its ring timeout:
	// resolving the target's host and confirming the answer.
	dialSlack = 15 * time.Second
)

// createParams is a checked create request.
type createParams struct {
	to       string          // To as shown: the target for logs, or client:NAME
	target   transfer.Target // for a sip: To
	client   string          // for client:NAME
	from     string          // caller ID; "" for sipagent's
	timeout  time.Duration
	agent    agent.Agent
	username string // SipAuthUsername / SipAuthPassword: the target's digest challenge
	password string
}

// create serves POST Calls.json: To (sip: URI or client:NAME), From,
// Url+Method or Twiml, Timeout, SipAuthUsername, SipAuthPassword.
func (a *API) create(w http.ResponseWriter, r *http.Request) {
	if e := parseForm(r); e != nil {
		writeError(w, e)
		return
	}
	p, e := a.createParams(r.PostForm)
	if e != nil {
		writeError(w, e)
		return
	}
	if p.client != "" && !a.cfg.Calls.Registered(p.client) {
		writeError(w, notFound("%s is not registered", p.to))
		return
	}
	res, e := a.dialQueued(p)
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusCreated, res)
}

// createParams checks a create request's form. The allow-list is asked
// last, so that a 403 always means a well-formed request to a place calls
// may not go.
func (a *API) createParams(form url.Values) (createParams, *Error) {
	var p createParams
	to := form.Get("To")
	switch {
	case to == "":
		return p, badRequest(codeNoTo, "To is required: a sip: URI or client:NAME")
	case strings.HasPrefix(to, "client:"):
		p.client = strings.TrimPrefix(to, "client:")
		if !isCallerID(p.client) {
			return p, badRequest(codeBadTo, "To %q: a client name is 1 to 64 letters, digits and +-_.", to)
		}
		p.to = to
	case hasSIPScheme(to):
		t, err := transfer.ParseTarget(to)
		if err != nil {
			return p, badRequest(codeBadTo, "To: %v", err)
		}
		if t.Secure || t.URI.Scheme == "sips" {
			return p, badRequest(codeBadTo, "To %s: sips: and SRTP (secure=true) targets are not supported; use sip:...;transport=tls for TLS signalling", t)
		}
		p.target, p.to = t, t.String()
	default:
		return p, badRequest(codeBadTo, "To %q: want a sip: URI or client:NAME", to)
	}

	if _, ok := form["From"]; ok {
		p.from = form.Get("From")
		if !isCallerID(p.from) {
			return p, badRequest(codeBadFrom, "From %q: a caller ID is 1 to 64 letters, digits and +-_.", p.from)
		}
	}

	p.timeout = defaultTimeout
	if v, ok := form["Timeout"]; ok {
		s, err := strconv.Atoi(v[0])
		d := time.Duration(s) * time.Second
		if err != nil || d < minTimeout || d > maxTimeout {
			return p, badRequest(codeCallsResource, "Timeout %q: want %d to %d seconds", v[0], int(minTimeout.Seconds()), int(maxTimeout.Seconds()))
		}
		p.timeout = d
	}

	p.username, p.password = form.Get("SipAuthUsername"), form.Get("SipAuthPassword")
	if p.username != "" || p.password != "" {
		if p.client != "" {
			return p, badRequest(codeCallsResource, "SipAuthUsername and SipAuthPassword are for sip: targets")
		}
		if !printable(p.username) || !printable(p.password) || len(p.username) > 256 || len(p.password) > 256 {
			return p, badRequest(codeCallsResource, "SipAuthUsername and SipAuthPassword: at most 256 printable characters each")
		}
	}

	if n := present(form, "Twiml", "Url", "Agent"); n != 1 {
		return p, badRequest(codeCallsResource, "give exactly one of Url, Twiml or Agent (got %d)", n)
	}
	ag, e := a.twimlAgent(form)
	if e != nil {
		return p, e
	}
	p.agent = ag

	if p.client == "" {
		if err := a.cfg.Policy.Allow(p.target); err != nil {
			a.log.Warn("API call refused: target not allowed", "to", p.to, "allowed", a.cfg.Policy.Patterns())
			return p, errorf(http.StatusForbidden, codeNotPermitted,
				"To %s: calls may not go there; the allow-list (transfer.allow) has no pattern for it", p.to)
		}
	}
	return p, nil
}

func hasSIPScheme(s string) bool {
	scheme, _, ok := strings.Cut(s, ":")
	return ok && (strings.EqualFold(scheme, "sip") || strings.EqualFold(scheme, "sips"))
}

// isCallerID reports whether s is a From user (or client name) sipagent
// puts in a SIP header as it is: letters, digits and "+-_.", at most 64,
// as transfer.Target.CallerID allows.
func isCallerID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !isAlnum(c) && !strings.ContainsRune("+-_.", c) {
			return false
		}
	}
	return true
}

// printable reports whether s is ASCII without control characters, so
// that it cannot break the header it goes into.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// dialQueued places a call to a sip: target or a registered client in
// the background. The Call-ID is chosen here, so the call's SID is known
// at once and the request returns while the call is still queued, as
// Twilio's does.
func (a *API) dialQueued(p createParams) (CallResource, *Error) {
	callID := rand.Text()
	sid := agent.Info{CallID: callID}.CallSid()
	from := p.from
	if from == "" {
		from = "sipagent" // DialURI's default
	}
	now := time.Now()
	d := &dialing{
		next: p.agent,
		res: CallResource{
			Sid:         sid,
			AccountSid:  a.cfg.AccountSid,
			From:        from,
			To:          p.to,
			Status:      "queued",
			Direction:   "outbound-api",
			DateCreated: twilioTime(now),
			APIVersion:  APIVersion,
			URI:         a.callsURI() + "/" + sid + ".json",
			created:     now,
		},
	}
	ctx, cancel := context.WithTimeout(a.ctx, p.timeout+dialSlack)
	d.cancel = cancel
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		cancel()
		return CallResource{}, errorf(http.StatusServiceUnavailable, codeUnavailable, "sipagent is shutting down")
	}
	a.dialing[sid] = d
	a.wg.Add(1)
	a.mu.Unlock()

	headers := make([]agent.Header, len(p.target.Headers))
	for i, h := range p.target.Headers {
		headers[i] = agent.Header{Name: h.Name, Value: h.Value}
	}
	req := sip.DialRequest{
		User:      p.client,
		URI:       p.target.URI,
		Transport: p.target.Transport,
		Headers:   headers,
		Username:  p.username,
		Password:  p.password,
		CallerID:  p.from,
		Timeout:   p.timeout,
		CallID:    callID,
		Direction: "outbound-api",
		Progress:  d.progress,
	}
	a.log.Info("API call queued", "sid", sid, "to", p.to)
	go a.dial(ctx, sid, p.to, d, req)
	return d.resource(), nil
}

// dial runs one call dialQueued queued, until it is answered or fails.
func (a *API) dial(ctx context.Context, sid, to string, d *dialing, req sip.DialRequest) {
	defer a.wg.Done()
	defer d.cancel()
	callID, err := a.cfg.Calls.DialURI(ctx, req, d)
	a.mu.Lock()
	delete(a.dialing, sid)
	a.mu.Unlock()
	log := a.log.With("sid", sid, "to", to)
	var de *sip.DialError
	switch {
	case err == nil:
		log.Info("API call answered", "call_id", callID)
	case d.wasCanceled() || a.ctx.Err() != nil:
		log.Info("API call canceled before it was answered", "error", err)
	case errors.As(err, &de):
		log.Info("API call not answered", "code", de.Code, "reason", de.Reason, "error", err)
	default:
		log.Warn("API call failed", "error", err)
	}
}
