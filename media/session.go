package media

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Session limits and defaults.
const (
	DefaultPtime = 20 * time.Millisecond
	MinPtime     = 10 * time.Millisecond
	MaxPtime     = 60 * time.Millisecond // MaxPayloadSize samples of G.711

	// queueSamples sizes the playout queue and the queue of received
	// audio: half a second each. More only costs memory per call: a
	// writer blocks until there is room, and a reader that lags by more
	// than this has lost the conversation anyway.
	queueSamples = SampleRate / 2
	// dtmfQueue is how many received key presses wait for the reader.
	dtmfQueue = 32
	// readBufferSize is the largest datagram read whole; anything longer
	// is cut and then refused as too big for the jitter buffer.
	readBufferSize = 1500
)

// Config describes one call's media.
type Config struct {
	// Conn is the RTP socket, from PortPool.Listen. The Session owns it
	// and closes it in Close.
	Conn *net.UDPConn
	// Remote is where to send RTP until symmetric RTP latches onto the
	// address the peer sends from (see Session). An invalid or
	// unspecified address (hold with c=0.0.0.0) sends nothing until a
	// source latches.
	Remote netip.AddrPort
	// Codec is the negotiated audio format.
	Codec Codec
	// DTMFPayloadType is the telephone-event payload type, -1 if not
	// negotiated.
	DTMFPayloadType int
	// Ptime is the packet time, 10-60 ms in whole milliseconds; zero
	// means DefaultPtime.
	Ptime time.Duration
	// Direction is ours: whether we send and whether we expect to
	// receive. The zero value is SendRecv.
	Direction Direction
	// JitterDepth is the number of packets held before playout starts;
	// zero means DefaultJitterDepth.
	JitterDepth int
	// RTPTimeout ends the session when no RTP arrives for this long while
	// receiving is expected. Zero never times out.
	RTPTimeout time.Duration
	// Logger receives the session's few log lines; nil discards them.
	Logger *slog.Logger
}

// Update is the media state a re-INVITE (or the answer in an ACK)
// negotiated. It replaces the previous state whole; fields mean what they
// mean in Config.
type Update struct {
	Remote          netip.AddrPort
	Codec           Codec
	DTMFPayloadType int
	Ptime           time.Duration
	Direction       Direction
}

// Stats counts what a Session has seen. Byte counts are RTP payload
// octets, as RTCP reports count them (RFC 3550 s.6.4.1).
type Stats struct {
	PacketsIn, BytesIn   uint64 // RTP accepted from the peer, audio and events
	PacketsOut, BytesOut uint64 // RTP sent
	Lost                 uint64 // audio packets never played: concealed or skipped
	Late                 uint64 // audio packets that came after their turn
	Duplicates           uint64 // audio packets received twice
	Ignored              uint64 // RTP from a source not (yet) trusted: a stranger, or a source being learned
	Invalid              uint64 // datagrams that are not RTP, are malformed, or have a payload type not negotiated
	RTCP                 uint64 // RTCP packets on the RTP port, ignored
	JitterDrops          uint64 // audio packets accepted but thrown away: oversized, backlog, stream restarts
	FramesDropped        uint64 // 20 ms frames of received audio the reader did not take in time
	DigitsIn, DigitsOut  uint64 // DTMF key presses received and sent
	DigitsDropped        uint64 // key presses received while the DTMF channel was full
	SendErrors           uint64 // socket writes that failed
	Relayed              uint64 // packets from the other leg of a Relay sent on to the peer, in PacketsOut too
	RelayDropped         uint64 // packets from the other leg not sent on: on hold, during our own key press, events not negotiated
}

// Session moves one call's audio over RTP: it receives the peer's
// packets into a jitter buffer and decodes them into 20 ms frames for
// ReadFrame, and every packet time it sends the next ptime of the audio
// queued by Write (or silence) to the peer, with RFC 4733 key presses in
// place of audio while SendDTMF runs.
//
// RTP is symmetric (RFC 4961): the session sends to the address the peer
// sends from, and ignores packets from anywhere else until an Update names
// a new remote address. Which source is the peer is learned so that a
// stranger cannot hijack the call (trustSource): the signalled address at
// once, any other only after a short in-sequence stream.
//
// Two goroutines run from Start to Close: one reads the socket, one ticks
// every packet time. All methods are safe for concurrent use.
type Session struct {
	conn    *net.UDPConn
	local   netip.AddrPort
	log     *slog.Logger
	timeout time.Duration

	done     chan struct{} // closed when the session ends
	frameIn  chan struct{} // 1-buffered: a frame was added for ReadFrame
	space    chan struct{} // 1-buffered: room was made in the playout queue
	digitsIn chan rune     // received key presses; closed by the reader on exit
	wg       sync.WaitGroup

	closeOnce  sync.Once
	closeErr   error
	sendErrors atomic.Uint64

	mu       sync.Mutex
	started  bool
	ended    bool
	reason   error          // why it ended: ErrClosed or ErrRTPTimeout
	remote   netip.AddrPort // from signalling
	source   netip.AddrPort // latched peer address
	latched  bool
	learn    learning // a source being learned before latching
	codec    Codec
	dtmfPT   int
	ptime    time.Duration
	dir      Direction
	lastRx   time.Time // when RTP last came from the peer, or receiving began
	rx       *receiver
	tx       *sender
	frames   sampleRing // received audio waiting for ReadFrame
	rxPCM    [MaxPayloadSize]int16
	playout  sampleRing    // audio waiting to be sent
	clearGen uint64        // counts Clear calls, so a blocked Write drops its rest
	played   chan struct{} // closed when the playout queue drains; nil if no one waits
	talking  bool          // the last packet sent carried queued audio
	sentAny  bool          // a packet has gone out since the stream started, or since a relay ended
	digits   []DigitPacket // the key press being sent
	digitAt  int           // next packet of digits to send
	digitTS  uint32        // timestamp of the key press being sent
	digitEnd chan struct{} // closed when digits are all sent; nil when idle
	stats    Stats
	// relayOut is the link of the Relay the session is in, nil if none:
	// the peer's packets go out through it to the other leg, and the
	// other leg's packets take the place of our own audio (relay.go).
	// The receive path reads it under mu, which it holds anyway.
	relayOut *relayLink

	rxBuf [readBufferSize]byte // the reader's datagram buffer
}

// NewSession checks cfg and returns a session ready to Start. On error
// the caller still owns cfg.Conn.
func NewSession(cfg Config) (*Session, error) {
	if cfg.Conn == nil {
		return nil, fmt.Errorf("%w: Conn is nil", ErrInvalidConfig)
	}
	ptime, err := checkMedia(cfg.Codec, cfg.DTMFPayloadType, cfg.Ptime, cfg.Direction)
	if err != nil {
		return nil, err
	}
	if cfg.JitterDepth < 0 || cfg.JitterDepth > DefaultJitterCapacity {
		return nil, fmt.Errorf("%w: JitterDepth %d is outside 0-%d", ErrInvalidConfig, cfg.JitterDepth, DefaultJitterCapacity)
	}
	if cfg.RTPTimeout < 0 {
		return nil, fmt.Errorf("%w: RTPTimeout %v is negative", ErrInvalidConfig, cfg.RTPTimeout)
	}
	la, ok := cfg.Conn.LocalAddr().(*net.UDPAddr)
	if !ok {
		return nil, fmt.Errorf("%w: Conn is not bound", ErrInvalidConfig)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Session{
		conn:     cfg.Conn,
		local:    la.AddrPort(),
		log:      log,
		timeout:  cfg.RTPTimeout,
		done:     make(chan struct{}),
		frameIn:  make(chan struct{}, 1),
		space:    make(chan struct{}, 1),
		digitsIn: make(chan rune, dtmfQueue),
		remote:   unmap(cfg.Remote),
		codec:    cfg.Codec,
		dtmfPT:   cfg.DTMFPayloadType,
		ptime:    ptime,
		dir:      cfg.Direction,
		rx:       newReceiver(cfg.Codec, cfg.DTMFPayloadType, cfg.JitterDepth),
		tx:       newSender(),
		frames:   newSampleRing(queueSamples),
		playout:  newSampleRing(queueSamples),
	}, nil
}

// checkMedia validates the negotiated parameters and returns the packet
// time with its default applied.
func checkMedia(c Codec, dtmfPT int, ptime time.Duration, dir Direction) (time.Duration, error) {
	if !c.Valid() {
		return 0, fmt.Errorf("%w: Codec %q is not supported", ErrInvalidConfig, c.Name)
	}
	if dtmfPT < -1 || dtmfPT > 127 || dtmfPT == int(c.PayloadType) {
		return 0, fmt.Errorf("%w: DTMFPayloadType %d is not -1 or a payload type other than the codec's", ErrInvalidConfig, dtmfPT)
	}
	if ptime == 0 {
		ptime = DefaultPtime
	}
	if ptime < MinPtime || ptime > MaxPtime || ptime%time.Millisecond != 0 {
		return 0, fmt.Errorf("%w: Ptime %v is not a whole number of ms within %v-%v", ErrInvalidConfig, ptime, MinPtime, MaxPtime)
	}
	if !dir.Valid() {
		return 0, fmt.Errorf("%w: Direction %d", ErrInvalidConfig, dir)
	}
	return ptime, nil
}

func unmap(a netip.AddrPort) netip.AddrPort { return netip.AddrPortFrom(a.Addr().Unmap(), a.Port()) }

// Start starts the reader and the ticker. It does nothing after the
// first call or once the session has ended.
func (s *Session) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.ended {
		return
	}
	s.started = true
	s.lastRx = time.Now()
	s.wg.Add(2)
	go s.readLoop()
	go s.tickLoop(s.ptime)
}

// Close ends the session, closes its socket and waits for its goroutines.
// It is idempotent; later calls return nil.
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		s.end(ErrClosed)
		s.closeErr = s.conn.Close()
		s.wg.Wait()
		s.mu.Lock()
		started := s.started
		s.mu.Unlock()
		if !started {
			close(s.digitsIn) // the reader closes it otherwise
		}
	})
	return s.closeErr
}

// end marks the session ended for reason, wakes everything that waits on
// it, and stops the reader. It reports whether this call ended it.
func (s *Session) end(reason error) bool {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return false
	}
	s.ended, s.reason = true, reason
	s.mu.Unlock()
	close(s.done)
	// A deadline in the past wakes the reader; Close closes the socket.
	_ = s.conn.SetReadDeadline(time.Unix(1, 0))
	return true
}

// Done is closed when the session ends, by Close or by an RTP timeout.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err returns nil while the session runs, ErrRTPTimeout if no RTP
// arriving ended it, and ErrClosed if Close did.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reason
}

// LocalAddr returns the address of the session's RTP socket.
func (s *Session) LocalAddr() netip.AddrPort { return s.local }

// Stats returns the session's counters so far.
func (s *Session) Stats() Stats {
	s.mu.Lock()
	st := s.stats
	js := s.rx.jb.Stats()
	st.Invalid += s.rx.badEvents
	s.mu.Unlock()
	st.Lost, st.Late, st.Duplicates = js.Lost, js.Late, js.Duplicates
	st.JitterDrops = js.Dropped + js.TooBig
	st.SendErrors = s.sendErrors.Load()
	return st
}

// Update applies a renegotiated media state. A new remote address lets
// symmetric RTP latch afresh; a new codec drops the audio buffered in the
// old one; and turning receiving on, or a new remote, restarts the RTP
// timeout. A key press being sent is abandoned if telephone-event is no
// longer negotiated. On error nothing changes.
func (s *Session) Update(u Update) error {
	ptime, err := checkMedia(u.Codec, u.DTMFPayloadType, u.Ptime, u.Direction)
	if err != nil {
		return err
	}
	remote := unmap(u.Remote)
	s.mu.Lock()
	defer s.mu.Unlock()
	restartTimeout := !s.dir.Receives() && u.Direction.Receives()
	if remote != s.remote {
		s.remote, s.source, s.latched, s.learn = remote, netip.AddrPort{}, false, learning{}
		restartTimeout = true
	}
	if restartTimeout {
		s.lastRx = time.Now()
	}
	s.codec = u.Codec
	s.rx.setCodec(u.Codec)
	s.dtmfPT, s.rx.dtmfPT = u.DTMFPayloadType, u.DTMFPayloadType
	if s.dtmfPT < 0 {
		s.finishDigit()
	}
	s.ptime = ptime
	s.dir = u.Direction
	return nil
}
