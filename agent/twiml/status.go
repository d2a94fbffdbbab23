package twiml

import (
	"context"
	"net/url"
	"strconv"
	"time"
)

// statusEvents posts a call's progress to the application's status
// callback, as Twilio's statusCallback does: initiated (calls sipagent
// placed), ringing, answered (CallStatus in-progress) and completed with
// CallDuration. Events go out in order from a goroutine of their own, so
// a slow callback never holds up the call; at the end the agent waits
// for them, at most one request timeout.
type statusEvents struct {
	s      *session
	ch     chan url.Values
	done   chan struct{}
	seq    int
	start  time.Time
	answer time.Time
}

func (s *session) startEvents() *statusEvents {
	if s.a.cfg.StatusCallback == "" {
		return nil
	}
	e := &statusEvents{s: s, ch: make(chan url.Values, 8), done: make(chan struct{}), start: time.Now()}
	go e.send()
	if direction(s.info) != "inbound" {
		e.post("initiated", "queued")
	}
	e.post("ringing", "ringing")
	return e
}

// post queues one event; a full queue drops it rather than block the
// call.
func (e *statusEvents) post(event, status string) {
	if e == nil {
		return
	}
	e.seq++
	p := url.Values{
		"CallStatus":          {status},
		"StatusCallbackEvent": {event},
		"SequenceNumber":      {strconv.Itoa(e.seq - 1)},
		"CallbackSource":      {"call-progress-events"},
		"Timestamp":           {time.Now().UTC().Format(time.RFC1123Z)},
	}
	if event == "completed" {
		d := 0
		if !e.answer.IsZero() {
			d = int(time.Since(e.answer).Round(time.Second) / time.Second)
		}
		p.Set("CallDuration", strconv.Itoa(d))
	}
	select {
	case e.ch <- p:
	default:
		e.s.log.Warn("status callback queue full; event dropped", "event", event)
	}
}

func (e *statusEvents) answered() {
	if e == nil || !e.answer.IsZero() {
		return
	}
	e.answer = time.Now()
	e.post("answered", "in-progress")
}

// finish posts completed and waits for the queue to drain.
func (e *statusEvents) finish() {
	if e == nil {
		return
	}
	e.post("completed", "completed")
	close(e.ch)
	t := time.NewTimer(e.s.a.cfg.Timeout)
	defer t.Stop()
	select {
	case <-e.done:
	case <-t.C:
		e.s.log.Warn("status callback too slow; stopped waiting")
	}
}

func (e *statusEvents) send() {
	defer close(e.done)
	cfg := e.s.a.cfg
	for p := range e.ch {
		params := e.s.params()
		for k, v := range p {
			params[k] = v
		}
		ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
		if _, err := e.s.a.hook.fetch(ctx, cfg.StatusCallbackMethod, cfg.StatusCallback, params); err != nil {
			e.s.log.Info("status callback failed", "error", err)
		}
		cancel()
	}
}
