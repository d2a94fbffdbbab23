package agenttest

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/sipagent/sipagent/agent"
)

// TransferFunc answers a Transfer request in place of a transfer service.
type TransferFunc func(ctx context.Context, req agent.TransferRequest) (agent.TransferResult, error)

// Option configures a Call.
type Option func(*Call)

// WithInfo sets the facts Info returns.
func WithInfo(info agent.Info) Option { return func(c *Call) { c.info = info } }

// WithTransfer makes Transfer call fn. Without it Transfer returns
// agent.ErrTransferUnsupported, as a server with no transfer service does.
func WithTransfer(fn TransferFunc) Option { return func(c *Call) { c.transfer = fn } }

// WithManualPlayout keeps written audio queued, so WaitPlayed blocks,
// until the test calls FinishPlayout or the agent calls ClearAudio.
func WithManualPlayout() Option { return func(c *Call) { c.manual = true } }

// errShortFrame is returned by ReadAudio for a buffer smaller than a frame.
var errShortFrame = fmt.Errorf("agenttest: ReadAudio buffer smaller than %d samples", agent.FrameSamples)

// dtmfKeys are the keys Press accepts.
const dtmfKeys = "0123456789*#ABCD"

// Call is a scripted agent.Call. Its methods are safe for concurrent use.
// The zero value is not usable; call New.
type Call struct {
	info     agent.Info
	transfer TransferFunc
	manual   bool

	audio     chan []int16  // caller frames, handed over one at a time
	dtmf      chan rune     // key presses, closed when the call ends
	ended     chan struct{} // closed when the call ends
	endOnce   sync.Once
	dtmfMu    sync.Mutex // serialises sends on dtmf with its close
	dtmfShut  bool
	mu        sync.Mutex // guards the fields below
	rec       Record
	changed   chan struct{} // closed and replaced whenever rec changes
	endNotify []func()
}

var _ agent.Call = (*Call)(nil)

// New returns a Call ready for an agent.
func New(opts ...Option) *Call {
	c := &Call{
		audio:   make(chan []int16),
		dtmf:    make(chan rune, 32),
		ended:   make(chan struct{}),
		changed: make(chan struct{}),
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Info returns the facts given WithInfo.
func (c *Call) Info() agent.Info { return c.info }

// ReadAudio returns the next frame passed to SendAudio.
func (c *Call) ReadAudio(ctx context.Context, frame []int16) (int, error) {
	if len(frame) < agent.FrameSamples {
		return 0, errShortFrame
	}
	select {
	case f := <-c.audio:
		return copy(frame, f), nil
	case <-c.ended:
		return 0, agent.ErrHangup
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// WriteAudio records pcm as played.
func (c *Call) WriteAudio(ctx context.Context, pcm []int16) error {
	if err := c.live(ctx); err != nil {
		return err
	}
	c.update(func(r *Record) {
		r.Played = append(r.Played, pcm...)
		if c.manual {
			r.Queued += len(pcm)
		}
	})
	return nil
}

// ClearAudio records a barge-in and drops queued audio.
func (c *Call) ClearAudio() {
	c.update(func(r *Record) {
		r.Clears++
		r.Queued = 0
	})
}

// WaitPlayed returns once no audio is queued.
func (c *Call) WaitPlayed(ctx context.Context) error {
	for {
		c.mu.Lock()
		queued, changed := c.rec.Queued, c.changed
		c.mu.Unlock()
		if queued == 0 {
			return nil
		}
		select {
		case <-changed:
		case <-c.ended:
			return agent.ErrHangup
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// DTMF delivers the keys passed to Press.
func (c *Call) DTMF() <-chan rune { return c.dtmf }

// Transfer records req and answers it with the WithTransfer function.
func (c *Call) Transfer(ctx context.Context, req agent.TransferRequest) (agent.TransferResult, error) {
	if err := c.live(ctx); err != nil {
		return agent.TransferResult{}, err
	}
	c.update(func(r *Record) { r.Transfers = append(r.Transfers, req) })
	if c.transfer == nil {
		return agent.TransferResult{}, agent.ErrTransferUnsupported
	}
	return c.transfer(ctx, req)
}

// Answer records that the agent answered the call.
func (c *Call) Answer(ctx context.Context) error {
	if err := c.live(ctx); err != nil {
		return err
	}
	c.update(func(r *Record) { r.Answers++ })
	return nil
}

// SendAudio hands frame to the agent as the caller's next 20 ms of audio.
// It blocks until the agent reads it, the call ends or ctx is done.
func (c *Call) SendAudio(ctx context.Context, frame []int16) error {
	f := append([]int16(nil), frame...)
	select {
	case c.audio <- f:
		return nil
	case <-c.ended:
		return agent.ErrHangup
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Press sends keys, one DTMF event per key, in order.
func (c *Call) Press(ctx context.Context, keys string) error {
	for _, k := range keys {
		if !strings.ContainsRune(dtmfKeys, k) {
			return fmt.Errorf("agenttest: Press %q: not a DTMF key", k)
		}
		if err := c.press(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

func (c *Call) press(ctx context.Context, k rune) error {
	c.dtmfMu.Lock()
	defer c.dtmfMu.Unlock()
	if c.dtmfShut {
		return agent.ErrHangup
	}
	select {
	case c.dtmf <- k:
		return nil
	case <-c.ended:
		return agent.ErrHangup
	case <-ctx.Done():
		return ctx.Err()
	}
}

// FinishPlayout marks all queued audio as played (WithManualPlayout).
func (c *Call) FinishPlayout() {
	c.update(func(r *Record) { r.Queued = 0 })
}

// Hangup ends the call as a caller hanging up would: blocking methods
// return agent.ErrHangup, the DTMF channel closes and the context Start
// gave the agent is cancelled. It is safe to call more than once.
func (c *Call) Hangup() { c.end() }

// Ended is closed when the call has ended, by Hangup or because the
// agent's Serve returned under Start.
func (c *Call) Ended() <-chan struct{} { return c.ended }

func (c *Call) end() {
	c.endOnce.Do(func() {
		// Closing ended first releases a Press blocked on a full
		// channel, so it gives up dtmfMu before the close below.
		close(c.ended)
		c.dtmfMu.Lock()
		c.dtmfShut = true
		close(c.dtmf)
		c.dtmfMu.Unlock()
		var notify []func()
		c.update(func(r *Record) {
			r.Ended = true
			notify = c.endNotify
		})
		for _, fn := range notify {
			fn()
		}
	})
}

// onEnd arranges for fn to run when the call ends, or runs it now if it
// has ended.
func (c *Call) onEnd(fn func()) {
	c.mu.Lock()
	if !c.rec.Ended {
		c.endNotify = append(c.endNotify, fn)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	fn()
}

// live returns why the agent may no longer act on the call, if it may not.
func (c *Call) live(ctx context.Context) error {
	select {
	case <-c.ended:
		return agent.ErrHangup
	default:
	}
	return ctx.Err()
}

// update applies fn to the record and wakes every Await and WaitPlayed.
func (c *Call) update(fn func(*Record)) {
	c.mu.Lock()
	fn(&c.rec)
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}
