package sip

import (
	"fmt"
	"net/netip"
	"path"

	"github.com/emiago/sipgo/sip"
	"github.com/sipagent/sipagent/agent"
)

// Router picks the agent that takes a new call. An error that is a
// *StatusError decides the response; any other error rejects the call
// with 404.
type Router interface {
	Route(info agent.Info) (agent.Agent, error)
}

// Route sends calls that match all its non-empty conditions to Agent.
type Route struct {
	Name   string       // for logs
	User   string       // Request-URI user, glob ("*" matches any run)
	From   string       // From URI, glob
	Source netip.Prefix // signalling source; zero value matches any
	Agent  agent.Agent
}

// Routes is an ordered list of routes; the first that matches wins.
type Routes []Route

// Validate checks the glob patterns so that a bad one fails at start-up.
func (rs Routes) Validate() error {
	for i, r := range rs {
		for _, p := range []string{r.User, r.From} {
			if _, err := path.Match(p, ""); err != nil {
				return fmt.Errorf("route %d: bad pattern %q: %w", i, p, err)
			}
		}
		if r.Agent == nil {
			return fmt.Errorf("route %d: no agent", i)
		}
	}
	return nil
}

// Route returns the agent of the first matching route.
func (rs Routes) Route(info agent.Info) (agent.Agent, error) {
	var user string
	var u sip.Uri
	if err := sip.ParseUri(info.RequestURI, &u); err == nil {
		user = u.User
	}
	for _, r := range rs {
		if r.User != "" && !glob(r.User, user) {
			continue
		}
		if r.From != "" && !glob(r.From, info.From) {
			continue
		}
		if r.Source.IsValid() && !r.Source.Contains(info.Source.Addr().Unmap()) {
			continue
		}
		return r.Agent, nil
	}
	return nil, ErrNoRoute
}

func glob(pattern, s string) bool {
	ok, _ := path.Match(pattern, s)
	return ok
}
