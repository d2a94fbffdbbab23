package api

import (
	"context"
	"sync"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/sip"
)

// dialing is a call the API created and is still dialling. The SIP
// server knows nothing of it until it is answered, so the API shows it
// (queued, then ringing) and lets it be updated: new TwiML replaces the
// agent it will run, and Status=canceled|completed cancels it.
//
// It is also the agent the call runs, so that an update that lands as
// the call is answered is not lost: until Serve starts, updates change
// what Serve will do; once it has, they go to the live call.
type dialing struct {
	cancel context.CancelFunc // stops the dial (CANCEL if it rings)

	mu       sync.Mutex
	res      CallResource
	next     agent.Agent // what the call runs once answered
	started  bool        // Serve has begun: the call is live
	canceled bool
}

// Serve runs the agent the call was created with, or the one an update
// gave it since.
func (d *dialing) Serve(ctx context.Context, call agent.Call) error {
	d.mu.Lock()
	d.started = true
	canceled, next := d.canceled, d.next
	d.mu.Unlock()
	if canceled {
		return nil // hung up through the API as it was answered
	}
	return next.Serve(ctx, call)
}

// redirect makes ag the agent the call runs once answered, and reports
// false if it has been answered already.
func (d *dialing) redirect(ag agent.Agent) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.started {
		return false
	}
	d.next = ag
	return true
}

// cancelDial stops the dial and reports false if the call has been
// answered already.
func (d *dialing) cancelDial() bool {
	d.mu.Lock()
	if d.started {
		d.mu.Unlock()
		return false
	}
	d.canceled = true
	d.res.Status = "canceled"
	d.mu.Unlock()
	d.cancel()
	return true
}

func (d *dialing) wasCanceled() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.canceled
}

// progress is sip.DialRequest.Progress: the target rings.
func (d *dialing) progress(p sip.Progress) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if p.Code > 100 && p.Code < 200 && d.res.Status == "queued" {
		d.res.Status = "ringing"
	}
}

func (d *dialing) resource() CallResource {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.res
}

// dialingCall returns the call the API is dialling with the SID, or nil.
func (a *API) dialingCall(sid string) *dialing {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.dialing[sid]
}

// queued lists the calls the API is dialling.
func (a *API) queued() []CallResource {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]CallResource, 0, len(a.dialing))
	for _, d := range a.dialing {
		out = append(out, d.resource())
	}
	return out
}
