package api

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/twiml"
	"github.com/sipagent/sipagent/sip"
)

// update serves POST Calls/{CallSid}.json with exactly one of
//
//	Twiml=<Response>...</Response>  run this document on the call
//	Url=...&Method=GET|POST         run the application at Url
//	Status=completed|canceled       hang up
//
// The new TwiML takes the call over from whatever agent runs it (a
// stream, a flow, other TwiML), as Twilio's live-call update does.
// Parameters are checked before the call is looked up, so a bad request
// is 400 whether or not the call exists.
func (a *API) update(w http.ResponseWriter, r *http.Request) {
	sid, e := callSid(r)
	if e == nil {
		e = parseForm(r)
	}
	if e != nil {
		writeError(w, e)
		return
	}
	form := r.PostForm
	if n := present(form, "Twiml", "Url", "Agent", "Status"); n != 1 {
		writeError(w, badRequest(codeCallsResource, "give exactly one of Twiml, Url, Agent or Status (got %d)", n))
		return
	}
	status := form.Get("Status")
	var ag agent.Agent
	if _, ok := form["Status"]; ok {
		if status != "completed" && status != "canceled" {
			writeError(w, badRequest(codeCallsResource, "Status %q: want completed or canceled", status))
			return
		}
	} else if ag, e = a.twimlAgent(form); e != nil {
		writeError(w, e)
		return
	}
	res, ok := a.lookup(sid)
	if !ok {
		writeError(w, notFound("call %s not found", sid))
		return
	}
	if ag == nil {
		res = a.end(sid, status, res)
	} else if e := a.redirect(sid, ag, instructionKind(form)); e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// present counts the keys form has, empty values included.
func present(form url.Values, keys ...string) int {
	n := 0
	for _, k := range keys {
		if _, ok := form[k]; ok {
			n++
		}
	}
	return n
}

// instructionKind names what a request asked to run, for logs: never
// the URL itself, which may carry credentials.
func instructionKind(form url.Values) string {
	if _, ok := form["Twiml"]; ok {
		return "twiml"
	}
	return "url"
}

// twimlAgent builds the agent that runs form's Twiml= or Url=/Method=
// from the TwiML template.
func (a *API) twimlAgent(form url.Values) (agent.Agent, *Error) {
	if _, ok := form["Agent"]; ok {
		// sipagent's own extension: one of the configured agents.
		name := form.Get("Agent")
		ag, ok := a.cfg.Agents[name]
		if !ok {
			return nil, badRequest(codeCallsResource, "Agent %q: no such agent", name)
		}
		return ag, nil
	}
	cfg := a.cfg.TwiML
	cfg.URL, cfg.Method, cfg.Document = "", "", nil
	if cb := form.Get("StatusCallback"); cb != "" {
		u, err := url.Parse(cb)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, badRequest(codeBadURL, "StatusCallback is not an absolute http:// or https:// URL")
		}
		cfg.StatusCallback, cfg.StatusCallbackMethod = u.String(), strings.ToUpper(form.Get("StatusCallbackMethod"))
		if m := cfg.StatusCallbackMethod; m != "" && m != "GET" && m != "POST" {
			return nil, badRequest(codeCallsResource, "StatusCallbackMethod %q: want GET or POST", m)
		}
	}
	if _, ok := form["Twiml"]; ok {
		doc := []byte(form.Get("Twiml"))
		if _, err := twiml.Parse(doc); err != nil {
			return nil, badRequest(codeTwiMLParse, "Twiml: %v", err)
		}
		cfg.Document = doc
	} else {
		u, err := url.Parse(form.Get("Url"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, badRequest(codeBadURL, "Url is not an absolute http:// or https:// URL")
		}
		cfg.URL = u.String()
		switch m := strings.ToUpper(form.Get("Method")); m {
		case "", "POST", "GET":
			cfg.Method = m
		default:
			return nil, badRequest(codeCallsResource, "Method %q: want GET or POST", form.Get("Method"))
		}
	}
	ag, err := twiml.New(cfg)
	if err != nil {
		// The request was checked above: what is left is the template.
		a.log.Error("TwiML agent refused its configuration", "error", err)
		return nil, errorf(http.StatusInternalServerError, codeCallsResource, "cannot run TwiML: %v", err)
	}
	return ag, nil
}

// redirect hands call sid to ag: the agent a queued call will run once
// answered, or the live call's new agent.
func (a *API) redirect(sid string, ag agent.Agent, kind string) *Error {
	if d := a.dialingCall(sid); d != nil && d.redirect(ag) {
		a.log.Info("queued API call given new TwiML", "sid", sid, "instructions", kind)
		return nil
	}
	c := a.find(sid)
	if c == nil {
		return badRequest(codeCallState, "call %s has ended", sid)
	}
	if err := c.Redirect(ag); err != nil {
		if errors.Is(err, sip.ErrCallEnded) {
			return badRequest(codeCallState, "call %s has ended", sid)
		}
		return errorf(http.StatusInternalServerError, codeCallsResource, "call %s: %v", sid, err)
	}
	a.log.Info("call redirected through the API", "sid", sid, "instructions", kind)
	return nil
}

// end hangs call sid up and returns res as it is now. A call not yet
// answered is cancelled (CANCEL for one sipagent is dialling, a refusal
// for one ringing in); an answered one gets a BYE for completed and is
// left alone for canceled, as Twilio leaves a call in progress alone.
func (a *API) end(sid, status string, res CallResource) CallResource {
	if d := a.dialingCall(sid); d != nil && d.cancelDial() {
		a.log.Info("queued API call canceled through the API", "sid", sid)
		res.Status = "canceled"
		return res
	}
	c := a.find(sid)
	if c == nil {
		res.Status = "completed" // it ended meanwhile
		return res
	}
	answered := c.Answered()
	if status == "canceled" && answered {
		return res
	}
	c.Hangup("api")
	a.log.Info("call hung up through the API", "sid", sid, "status", status)
	res.Status = "completed"
	if !answered {
		res.Status = "canceled"
	}
	return res
}
