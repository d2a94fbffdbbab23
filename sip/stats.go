package sip

import (
	"sync/atomic"

	"github.com/sipagent/sipagent/media"
)

// CallOutcome is how a call ended, a small fixed set for counting (a
// metrics label); the log keeps the precise reason.
type CallOutcome uint8

// Call outcomes. Every call counts once: inbound calls, and the calls
// sipagent places (the target's leg of a bridge) alike.
const (
	// OutcomeCompleted: an answered call the agent, the caller or a
	// transfer ended.
	OutcomeCompleted CallOutcome = iota
	// OutcomeCancelled: the caller gave up before the call was answered.
	OutcomeCancelled
	// OutcomeRejected: refused before it was answered, by sipagent
	// (no route, no common codec, no RTP port, a bad request) or by the
	// agent. Refusals before a call is admitted (strangers, max_calls,
	// draining) are not calls and do not count.
	OutcomeRejected
	// OutcomeFailed: the answer was not confirmed (no ACK, a bad SDP
	// answer in it) or the media ended under the call.
	OutcomeFailed
	// OutcomeRTPTimeout: no RTP came for media.rtp_timeout.
	OutcomeRTPTimeout
	// OutcomeAgentError: the agent failed (returned an error or panicked).
	OutcomeAgentError
	// OutcomeShutdown: ended by the server's shutdown.
	OutcomeShutdown

	callOutcomes // the number of outcomes
)

var outcomeNames = [callOutcomes]string{
	OutcomeCompleted:  "completed",
	OutcomeCancelled:  "cancelled",
	OutcomeRejected:   "rejected",
	OutcomeFailed:     "failed",
	OutcomeRTPTimeout: "rtp_timeout",
	OutcomeAgentError: "agent_error",
	OutcomeShutdown:   "shutdown",
}

// String returns the outcome's label: completed, cancelled, rejected,
// failed, rtp_timeout, agent_error or shutdown.
func (o CallOutcome) String() string {
	if o < callOutcomes {
		return outcomeNames[o]
	}
	return "unknown"
}

// callOutcome maps the reason teardown logs onto an outcome. The reasons
// are the ones run, setupCall and answer give; any other (an agent's
// own Hangup reason) is a completed call, or a refusal if the call was
// never answered.
func callOutcome(reason string, answered bool) CallOutcome {
	switch reason {
	case "agent error":
		return OutcomeAgentError
	case "rtp timeout":
		return OutcomeRTPTimeout
	case "shutdown":
		return OutcomeShutdown
	case "cancelled":
		return OutcomeCancelled
	case "no ack", "bad sdp in ack", "media ended":
		return OutcomeFailed
	}
	switch {
	case answered:
		return OutcomeCompleted
	case reason == "caller hung up":
		return OutcomeCancelled
	}
	return OutcomeRejected
}

// Stats is a snapshot of a Server's counters, for metrics. Counters only
// grow while the server runs.
type Stats struct {
	// Calls counts ended calls, indexed by CallOutcome.
	Calls       [callOutcomes]uint64
	ActiveCalls int // calls in setup or in progress now

	// RTP totals from the calls' media sessions (media.Stats): ended
	// calls, and what the active ones have counted so far.
	RTPPacketsIn  uint64
	RTPPacketsOut uint64
	RTPLost       uint64 // audio packets never played
	JitterDrops   uint64 // audio packets the jitter buffer threw away

	// AgentErrors counts agents that failed, while their call ran or
	// after it ended.
	AgentErrors uint64
}

// serverStats are the counters behind Stats: atomics, so that counting
// costs no lock and no allocation. A call is counted once, as it ends;
// its RTP is added as it flows, at each Stats and at the end (countRTP).
type serverStats struct {
	calls       [callOutcomes]atomic.Uint64
	packetsIn   atomic.Uint64
	packetsOut  atomic.Uint64
	lost        atomic.Uint64
	jitterDrops atomic.Uint64
	agentErrors atomic.Uint64
}

// callEnded counts a call torn down for reason.
func (st *serverStats) callEnded(reason string, answered bool) {
	st.calls[callOutcome(reason, answered)].Add(1)
}

// addRTP adds what a session counted between prev and cur. A counter
// that went back (a jitter buffer replaced on a codec change) adds
// nothing, so the totals never fall.
func (st *serverStats) addRTP(cur, prev media.Stats) {
	growth := func(c, p uint64) uint64 { return max(c, p) - p }
	st.packetsIn.Add(growth(cur.PacketsIn, prev.PacketsIn))
	st.packetsOut.Add(growth(cur.PacketsOut, prev.PacketsOut))
	st.lost.Add(growth(cur.Lost, prev.Lost))
	st.jitterDrops.Add(growth(cur.JitterDrops, prev.JitterDrops))
}

// rejected counts an INVITE refused in setup, before it became a Call.
func (st *serverStats) rejected() { st.calls[OutcomeRejected].Add(1) }

// agentFailed counts an agent's failure.
func (st *serverStats) agentFailed() { st.agentErrors.Add(1) }

// Stats returns a snapshot of the server's counters. Each counter is read
// on its own, so a call ending meanwhile may show in some and not others.
// The RTP of active calls is counted up to now first.
func (s *Server) Stats() Stats {
	for _, c := range s.calls.all() {
		c.countRTP(false)
	}
	st := Stats{
		ActiveCalls:   s.ActiveCalls(),
		RTPPacketsIn:  s.stats.packetsIn.Load(),
		RTPPacketsOut: s.stats.packetsOut.Load(),
		RTPLost:       s.stats.lost.Load(),
		JitterDrops:   s.stats.jitterDrops.Load(),
		AgentErrors:   s.stats.agentErrors.Load(),
	}
	for i := range st.Calls {
		st.Calls[i] = s.stats.calls[i].Load()
	}
	return st
}

// Ready reports whether the server takes calls: every listener is bound
// and it is not draining (Shutdown or Close has not begun). Health
// checks use it; OPTIONS answers 503 at the same moment.
func (s *Server) Ready() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.draining && len(s.cfg.Listeners) > 0 && len(s.listeners) == len(s.cfg.Listeners)
}

// Transferrer returns the Transferrer the server was configured with, or
// nil: for a status endpoint that reports what it has counted.
func (s *Server) Transferrer() Transferrer { return s.cfg.Transferrer }

// countRTP adds to the server's totals what the call's media session has
// counted since the last time, and returns the session's counters. After
// the final count (at teardown) it adds nothing more. The counters are
// read under rtpMu, so two counts in a row never see them go back.
func (c *Call) countRTP(final bool) media.Stats {
	c.rtpMu.Lock()
	defer c.rtpMu.Unlock()
	st := c.sess.Stats()
	if c.rtpDone {
		return st
	}
	c.srv.stats.addRTP(st, c.rtpCounted)
	c.rtpCounted, c.rtpDone = st, final
	return st
}
