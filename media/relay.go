package media

import (
	"errors"
	"net/netip"
	"sync"
)

// Errors returned by NewRelay.
var (
	// ErrRelaySessions is returned by NewRelay unless it is given two
	// distinct sessions.
	ErrRelaySessions = errors.New("media: a relay needs two distinct sessions")

	// ErrRelayed is returned by NewRelay for a session already in a
	// relay.
	ErrRelayed = errors.New("media: session already relayed")
)

// Relay forwards RTP between the two sessions of a bridged call, packet
// by packet as each arrives, instead of playing one leg's decoded frames
// into the other's playout queue: no jitter buffer, no packet clock, and
// no decode unless the legs' codecs differ, when G.711 is converted
// between PCMU and PCMA byte by byte.
//
// Each session stays the source of the stream its peer hears (RFC 3550
// s.8: a B2BUA terminates RTP, it is no translator): a forwarded packet
// goes out with that session's SSRC and next sequence number, and its
// timestamp moved onto that session's clock by an offset chosen on the
// first packet forwarded, again when the other leg's peer changes SSRC
// (RFC 3550 s.8.2) or codec, so the far end sees one continuous stream
// whatever happens on the other leg. The packet that starts a mapping,
// or follows a pause, carries the marker bit (RFC 3551 s.4.1). RFC 4733
// key presses are forwarded with the receiving leg's telephone-event
// payload type, or dropped if it negotiated none; they are still
// reported on the session's DTMF channel.
//
// While relayed a session sends nothing of its own but the key presses
// of SendDTMF, during which the other leg's packets are dropped; audio
// queued by Write waits, as on hold. Its packet clock still runs:
// timestamps keep time, the RTP timeout is checked, and ReadFrame gets
// frames, silent ones since the peer's audio goes to the other leg
// rather than the jitter buffer. A session that may not send (on hold,
// or with nowhere to send) forwards nothing; Stats counts what is
// relayed and dropped.
type Relay struct {
	a, b   *Session
	ab, ba *relayLink // a's peer to b's, b's peer to a's
	once   sync.Once
}

// relayMu serialises NewRelay and Relay.Close. They are all that ever
// lock two sessions at once, so their order cannot deadlock, and a
// session joins one relay at most.
var relayMu sync.Mutex

// NewRelay starts forwarding RTP both ways between a and b, which stay
// running and owned by the caller: closing either while relayed is safe,
// and nothing more is forwarded into it. It fails with ErrRelaySessions
// if a or b is nil or they are the same, ErrRelayed if either is in a
// relay already, and ErrClosed if either has ended.
func NewRelay(a, b *Session) (*Relay, error) {
	if a == nil || b == nil || a == b {
		return nil, ErrRelaySessions
	}
	relayMu.Lock()
	defer relayMu.Unlock()
	a.mu.Lock()
	defer a.mu.Unlock()
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case a.ended || b.ended:
		return nil, ErrClosed
	case a.relayOut != nil || b.relayOut != nil:
		return nil, ErrRelayed
	}
	// Both at once: neither leg forwards into one still sending its own
	// packets.
	r := &Relay{a: a, b: b, ab: &relayLink{to: b}, ba: &relayLink{to: a}}
	a.relayOut, b.relayOut = r.ab, r.ba
	return r, nil
}

// Close stops the relay. Once it returns no forwarded packet goes out,
// and each session is back to its own stream: the next packet it sends,
// queued audio or silence, starts a talkspurt with the marker bit, and
// numbering continues. The jitter buffers start empty, so nothing
// buffered before the relay is played. Close is idempotent and may come
// after the sessions closed; it returns nil.
func (r *Relay) Close() error {
	r.once.Do(func() {
		relayMu.Lock()
		defer relayMu.Unlock()
		// Links first: this waits for a packet being forwarded, so none
		// can follow the sessions' own.
		r.ab.close()
		r.ba.close()
		r.a.leaveRelay()
		r.b.leaveRelay()
	})
	return nil
}

// leaveRelay puts s back on its own stream after a relay.
func (s *Session) leaveRelay() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.relayOut = nil
	s.rx.jb.Reset()
	s.rx.staged, s.rx.lastN = 0, 0
	s.sentAny = false // the next packet starts a talkspurt
}

// relayLink is one direction of a Relay: what one session, X, accepts
// from its peer goes out through the other, to, to that one's peer.
type relayLink struct {
	to *Session

	// mu is held through a whole forward, socket write included, and by
	// close, so nothing goes out once close returns. Only X's reader
	// forwards, so only close ever waits for it. It guards the rest.
	mu       sync.Mutex
	closed   bool
	anchored bool   // an offset has been chosen
	ssrc     uint32 // the incoming SSRC it was chosen for
	codec    Codec  // X's codec then
	offset   uint32 // added to incoming timestamps
	mark     bool   // set the marker bit on the next packet out
	buf      [rtpHeaderSize + MaxPayloadSize]byte
}

func (l *relayLink) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}

// forward sends one packet X accepted on to the peer of l.to, Y: audio
// in X's codec from, or a telephone event. It runs in X's reader after X
// released X.mu: Y's reader forwards the other way at the same time, and
// holding both sessions' locks would deadlock.
//
// Only Y's header fields need Y.mu. The packet is built in the link's
// own buffer, not Y's sender's, so the payload is filled and the socket
// written after Y.mu is released, as the packet clock does: l.mu keeps
// the buffer to this forward, and Y's packet clock and reader wait for
// neither the copy nor the write. It allocates nothing.
func (l *relayLink) forward(h rtpHeader, payload []byte, from Codec, event bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	y := l.to
	y.mu.Lock()
	to := y.codec
	dst, ok := l.stamp(h, len(payload), from, event)
	y.mu.Unlock()
	if !ok {
		return
	}
	n := len(payload)
	if event {
		copy(l.buf[rtpHeaderSize:], payload)
	} else {
		transcode(l.buf[rtpHeaderSize:], payload, from, to)
	}
	if _, err := y.conn.WriteToUDPAddrPort(l.buf[:rtpHeaderSize+n], dst); err != nil && !y.isEnded() && y.sendErrors.Add(1) == 1 {
		y.log.Debug("relayed RTP send failed", "to", dst.String(), "error", err)
	}
}

// stamp decides whether Y sends the packet, of n payload octets, and if
// so writes Y's header for it into the buffer and counts it. It returns
// where to send it. Call with l.mu and Y.mu held.
func (l *relayLink) stamp(h rtpHeader, n int, from Codec, event bool) (netip.AddrPort, bool) {
	y := l.to
	if y.ended {
		return netip.AddrPort{}, false
	}
	dst, ok := y.destination()
	switch {
	case !ok || !y.dir.Sends() || y.digitEnd != nil:
		// Not sent: Y is on hold, has nowhere to send, or is sending its
		// own key press, which must not interleave with relayed packets.
		// What follows the pause starts a talkspurt.
		l.mark = true
		y.stats.RelayDropped++
		return dst, false
	case event && y.dtmfPT < 0, n > MaxPayloadSize:
		y.stats.RelayDropped++
		return dst, false
	}
	// A new incoming stream, or a new format, gets its own offset: its
	// sequence and timestamps start afresh (RFC 3550 s.8.2), so its first
	// packet is given Y's clock, and the rest keep their spacing from it.
	if !l.anchored || h.SSRC != l.ssrc || from != l.codec {
		l.anchored, l.ssrc, l.codec, l.mark = true, h.SSRC, from, true
		l.offset = y.tx.ts - h.Timestamp
	}
	ts := h.Timestamp + l.offset
	pt := y.codec.PayloadType
	if event {
		pt = uint8(y.dtmfPT) // an event's timestamp is its start (RFC 4733 s.2.2.1): same offset
	} else {
		y.tx.catchUp(ts + uint32(n)) // G.711: one octet a sample
	}
	y.tx.stamp(l.buf[:], pt, ts, h.Marker || l.mark)
	l.mark = false
	y.stats.PacketsOut++
	y.stats.BytesOut += uint64(n)
	y.stats.Relayed++
	return dst, true
}
