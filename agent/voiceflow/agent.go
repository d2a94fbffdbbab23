package voiceflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/sipagent/sipagent/agent"
)

// Agent runs a Voiceflow agent on calls. It implements agent.Agent.
type Agent struct {
	cfg Config
	dm  *client
	log *slog.Logger
}

var _ agent.Agent = (*Agent)(nil)

// maxTurns bounds the requests of one call, so a project that loops
// without ever waiting for the caller cannot keep a call for ever.
const maxTurns = 2000

// session is one call's conversation.
type session struct {
	a       *Agent
	call    agent.Call
	info    agent.Info
	log     *slog.Logger
	user    string
	bargeIn bool     // the caller may interrupt playback (interruption action)
	hints   []string // choice buttons: what the caller is likely to say
}

// step is what a response's traces lead to.
type step struct {
	next *action // the request to send next; nil: listen to the caller
	end  bool    // the conversation is over: hang up
}

// Serve answers the call, launches the conversation and goes on turn by
// turn until an end trace, the caller hanging up, or a failure (which
// gets the apology and the fallback).
func (a *Agent) Serve(ctx context.Context, call agent.Call) error {
	if err := call.Answer(ctx); err != nil {
		return nil // the caller is gone
	}
	info := call.Info()
	s := &session{a: a, call: call, info: info, bargeIn: true}
	s.log = a.log.With("call_id", info.CallID)
	s.user = s.userID()
	next := action{Type: "launch", Payload: launchPayload{
		CallType: "inbound", UserNumber: uriUser(info.From), AgentNumber: uriUser(info.To),
	}}
	for range maxTurns {
		rctx, cancel := context.WithTimeout(ctx, a.cfg.Timeout)
		traces, err := a.dm.interact(rctx, s.user, next)
		cancel()
		if err != nil {
			return s.fail(ctx, err)
		}
		st, err := s.run(ctx, traces)
		switch {
		case hungUp(ctx, err):
			return nil
		case err != nil:
			return s.fail(ctx, err)
		case st.end:
			return nil
		case st.next != nil:
			next = *st.next
			continue
		}
		in, err := s.input(ctx)
		if err != nil {
			if hungUp(ctx, err) {
				return nil
			}
			return s.fail(ctx, err)
		}
		next = in
	}
	return s.fail(ctx, fmt.Errorf("voiceflow: over %d turns in one call", maxTurns))
}

// fail says sorry and hands the call to the fallback agent.
func (s *session) fail(ctx context.Context, err error) error {
	if hungUp(ctx, err) {
		return nil
	}
	s.log.Warn("Voiceflow agent failed", "error", err)
	s.call.ClearAudio()
	if syn := s.a.cfg.Synthesizer; syn != nil {
		if pcm, serr := syn.Synthesize(ctx, s.a.cfg.Apology); serr == nil {
			_ = agent.Play(ctx, s.call, pcm)
		}
	}
	if s.a.cfg.Fallback == nil {
		return nil // hang up after the apology
	}
	return s.a.cfg.Fallback.Serve(ctx, s.call)
}

// userID is the Voiceflow user the conversation is kept under.
func (s *session) userID() string {
	if s.a.cfg.UserID == UserPerCaller {
		if u := uriUser(s.info.From); u != "" {
			return "caller-" + u
		}
	}
	return "call-" + s.info.CallSid()
}

// uriUser returns the user part of a SIP URI ("+15550100" of
// sip:+15550100@host), or the text as it is.
func uriUser(uri string) string {
	u := uri
	if i := strings.IndexByte(u, ':'); i >= 0 && !strings.HasPrefix(u, "+") {
		u = u[i+1:]
	}
	if i := strings.IndexAny(u, "@;>"); i >= 0 {
		u = u[:i]
	}
	return u
}

func hungUp(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, agent.ErrHangup)
}
