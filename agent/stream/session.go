package stream

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/media"
)

// session is one open stream. Four goroutines run it, each owning one
// side of one direction, with bounded queues between them so that no
// side can hold up another:
//
//	callerAudio: call.ReadAudio -> out (sendQueue)
//	sendLoop:    out -> WebSocket writes
//	readLoop:    WebSocket reads -> play (playout), clears, marks
//	play.run:    play -> call.WriteAudio / WaitPlayed -> marks into out
//
// run itself forwards DTMF into out and decides how the stream ends.
type session struct {
	call agent.Call
	conn *websocket.Conn
	log  *slog.Logger
	form formatter // used by sendLoop only
	out  *sendQueue
	play *playout

	mediaSent, marksSent, dtmfSent      atomic.Uint64
	mediaReceived, clears, bad, unknown atomic.Uint64

	// Used by readLoop only: whether each kind of trouble was logged.
	warnedBad, warnedAudio, warnedMarks bool
}

func newSession(call agent.Call, conn *websocket.Conn, opts Options, streamSid string, log *slog.Logger) *session {
	return &session{
		call: call,
		conn: conn,
		log:  log,
		form: formatter{
			streamSid:  streamSid,
			accountSid: opts.AccountSid,
			callSid:    opts.CallSid,
			params:     maps.Clone(opts.Parameters), // the caller may reuse its map
			buf:        make([]byte, 0, 512),
		},
		out:  newSendQueue(),
		play: newPlayout(),
	}
}

// run streams until the call ends or the socket closes or fails, then
// stops every goroutine and returns how the stream ended.
func (s *session) run(ctx context.Context) (End, error) {
	// The socket goroutines outlive ctx: after a hang-up they still send
	// stop and close the socket, within closeGrace.
	sockCtx, cancelSock := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSock()
	audioCtx, cancelAudio := context.WithCancel(ctx)
	defer cancelAudio()
	playCtx, cancelPlay := context.WithCancel(ctx)
	defer cancelPlay()

	s.out.pushEvent(outConnected, "")
	s.out.pushEvent(outStart, "")

	var wg sync.WaitGroup
	sent, read, audio, played := make(chan error, 1), make(chan error, 1), make(chan error, 1), make(chan error, 1)
	wg.Go(func() { sent <- s.sendLoop(sockCtx) })
	wg.Go(func() { read <- s.readLoop(sockCtx) })
	wg.Go(func() { audio <- s.callerAudio(audioCtx) })
	wg.Go(func() { played <- s.play.run(playCtx, s.call, s.sendMark) })

	end, err := s.wait(ctx, sent, read, audio, played)
	switch end {
	case EndHangup:
		cancelAudio()
		cancelPlay()
		s.out.pushEvent(outStop, "")
		s.out.finish() // sendLoop sends what is queued, stop last, and closes
		// An agent that does not answer the close, or a socket that
		// stopped moving, is cut off after closeGrace.
		grace := time.AfterFunc(closeGrace, cancelSock)
		defer grace.Stop()
	case EndAgentClosed:
		// Play out what the agent sent before closing (a goodbye,
		// say) and wait for it to be heard, so the fallback or the
		// hang-up does not cut it off.
		cancelAudio()
		cancelSock()
		s.out.finish()
		s.play.drain()
	default:
		cancelAudio()
		cancelPlay()
		s.out.finish()
		cancelSock()
		_ = s.conn.CloseNow()
	}
	wg.Wait()
	return end, err
}

// wait returns how the stream ends: at the first of the call ending, ctx
// being done, or the socket closing or failing.
func (s *session) wait(ctx context.Context, sent, read, audio, played <-chan error) (End, error) {
	dtmf := s.call.DTMF()
	for {
		select {
		case d, ok := <-dtmf:
			if !ok {
				return EndHangup, nil // the channel closes when the call ends
			}
			if s.out.pushEvent(outDTMF, string(d)) {
				s.dtmfSent.Add(1)
			}
		case <-ctx.Done():
			return EndHangup, nil
		// ReadAudio, WriteAudio and WaitPlayed fail only when the call
		// has ended or ctx is done.
		case err := <-audio:
			return EndHangup, ignore(err)
		case err := <-played:
			return EndHangup, ignore(err)
		case err := <-read:
			return readEnd(err)
		case err := <-sent:
			return EndSocketFailed, fmt.Errorf("%w: write: %w", ErrSocket, err)
		}
	}
}

// readEnd classifies the error that ended reading the socket.
func readEnd(err error) (End, error) {
	switch websocket.CloseStatus(err) {
	case websocket.StatusNormalClosure, websocket.StatusGoingAway, websocket.StatusNoStatusRcvd:
		return EndAgentClosed, nil
	}
	return EndSocketFailed, fmt.Errorf("%w: read: %w", ErrSocket, err)
}

// stats returns the session's counts. Call once its goroutines are done.
func (s *session) stats() Stats {
	st := Stats{
		MediaSent:     s.mediaSent.Load(),
		MarksSent:     s.marksSent.Load(),
		DTMFSent:      s.dtmfSent.Load(),
		MediaReceived: s.mediaReceived.Load(),
		Clears:        s.clears.Load(),
		BadMessages:   s.bad.Load(),
		UnknownEvents: s.unknown.Load(),
	}
	st.MediaDropped, st.EventsDropped = s.out.dropped()
	st.SamplesDropped, st.MarksDropped = s.play.dropped()
	return st
}

// callerAudio queues the caller's audio for the agent, frame by frame. It
// never waits on the agent: the queue drops old frames instead.
func (s *session) callerAudio(ctx context.Context) error {
	frame := make([]int16, agent.FrameSamples)
	var samples uint64
	for {
		n, err := s.call.ReadAudio(ctx, frame)
		if err != nil {
			return err
		}
		// The timestamp is the frame's place in the caller's audio,
		// which is what an agent lines its replies up with; frames
		// dropped for a slow agent show as a jump in it.
		s.out.pushMedia(frame[:n], samples*1000/agent.SampleRate)
		samples += uint64(n)
	}
}

// sendMark queues a mark for the agent.
func (s *session) sendMark(name string) {
	if s.out.pushEvent(outMark, name) {
		s.marksSent.Add(1)
	}
}

// sendLoop writes queued messages to the socket until the queue is
// finished and empty, then closes the socket normally; or until ctx is
// done or a write fails.
func (s *session) sendLoop(ctx context.Context) error {
	var it outItem
	for {
		ok, done := s.out.pop(&it)
		if done {
			return s.conn.Close(websocket.StatusNormalClosure, "")
		}
		if !ok {
			select {
			case <-s.out.wake:
			case <-ctx.Done():
				return ctx.Err()
			}
			continue
		}
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		err := s.conn.Write(wctx, websocket.MessageText, s.form.format(&it))
		cancel()
		if err != nil {
			return err
		}
		if it.kind == outMedia {
			s.mediaSent.Add(1)
		}
	}
}

// readLoop reads and handles the agent's messages until the socket
// closes or fails, or ctx is done.
func (s *session) readLoop(ctx context.Context) error {
	var buf bytes.Buffer
	var pcm []int16
	for {
		_, r, err := s.conn.Reader(ctx)
		if err != nil {
			return err
		}
		if buf.Cap() > 64<<10 {
			buf = bytes.Buffer{} // do not keep a large message's buffer for the call
		}
		buf.Reset()
		if _, err := buf.ReadFrom(r); err != nil {
			return err
		}
		msg, err := Decode(buf.Bytes())
		if err != nil {
			// A bad message is skipped, never fatal: the call goes on.
			s.bad.Add(1)
			s.logOnce(&s.warnedBad, "stream: bad message from agent, skipped", "err", err)
			continue
		}
		pcm = s.handle(&msg, pcm)
	}
}

// handle acts on one message from the agent. pcm is a buffer for decoded
// audio, returned grown if need be.
func (s *session) handle(msg *Message, pcm []int16) []int16 {
	switch msg.Kind {
	case KindMedia:
		s.mediaReceived.Add(1)
		if cap(pcm) < len(msg.Payload) {
			pcm = make([]int16, len(msg.Payload))
		}
		pcm = pcm[:media.PCMU.Decode(pcm[:len(msg.Payload)], msg.Payload)]
		if !s.play.pushAudio(pcm) {
			s.logOnce(&s.warnedAudio, "stream: agent is over a minute of audio ahead; audio dropped", "max_samples", MaxQueuedAudio)
		}
	case KindMark:
		if !s.play.pushMark(msg.Mark) {
			s.logOnce(&s.warnedMarks, "stream: agent has too many marks pending; mark dropped", "max_marks", MaxPendingMarks)
		}
	case KindClear:
		// Barge-in: drop what waits here, then what the call has
		// queued, and return the marks that will never be reached.
		s.clears.Add(1)
		marks := s.play.clear()
		s.call.ClearAudio()
		for _, m := range marks {
			s.sendMark(m)
		}
	default:
		s.unknown.Add(1)
		s.log.Debug("stream: unknown event from agent, ignored", "event", msg.Event)
	}
	return pcm
}

// logOnce logs at warning level the first time, at debug level after,
// so a misbehaving agent cannot flood the log.
func (s *session) logOnce(warned *bool, msg string, args ...any) {
	level := slog.LevelDebug
	if !*warned {
		*warned, level = true, slog.LevelWarn
	}
	s.log.Log(context.Background(), level, msg, args...)
}

// ignore drops an error that carries no news: the caller's audio and the
// playout fail only once the call has ended or ctx is done, which is a
// hang-up, not a failure.
func ignore(error) error { return nil }
