package sip

import (
	"sync"

	"github.com/emiago/sipgo/sip"
)

// registry holds the calls of a Server by dialog ID and counts the slots
// taken by calls in setup and in progress, for limits.max_calls.
type registry struct {
	mu    sync.Mutex
	byID  map[string]*Call
	slots int
	// closing, once set by hangupAll, is the reason every call added
	// later is asked to end for: a call still in setup when the server
	// closes must not escape the hang-up.
	closing string
}

func newRegistry() *registry { return &registry{byID: make(map[string]*Call)} }

// reserve takes a call slot unless max are taken.
func (r *registry) reserve(max int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.slots >= max {
		return false
	}
	r.slots++
	return true
}

func (r *registry) release() {
	r.mu.Lock()
	r.slots--
	r.mu.Unlock()
}

func (r *registry) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.slots
}

func (r *registry) add(id string, c *Call) {
	r.mu.Lock()
	r.byID[id] = c
	closing := r.closing
	r.mu.Unlock()
	if closing != "" {
		c.hangup(closing)
	}
}

func (r *registry) remove(id string) {
	r.mu.Lock()
	delete(r.byID, id)
	r.mu.Unlock()
}

// all returns the calls registered now.
func (r *registry) all() []*Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*Call, 0, len(r.byID))
	for _, c := range r.byID {
		out = append(out, c)
	}
	return out
}

// match finds the call an in-dialog request belongs to, or nil.
func (r *registry) match(req *sip.Request) *Call {
	id, err := sip.DialogIDFromRequestUAS(req)
	if err != nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byID[id]
}

// hangupAll asks every call to end and returns how many were asked.
func (r *registry) hangupAll(reason string) int {
	r.mu.Lock()
	r.closing = reason
	calls := make([]*Call, 0, len(r.byID))
	for _, c := range r.byID {
		calls = append(calls, c)
	}
	r.mu.Unlock()
	for _, c := range calls {
		c.hangup(reason)
	}
	return len(calls)
}
