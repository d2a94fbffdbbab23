package media

import (
	"errors"
	"net"
	"net/netip"
	"time"
)

// readLoop reads the socket until the session ends.
func (s *Session) readLoop() {
	defer s.wg.Done()
	defer close(s.digitsIn)
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(s.rxBuf[:])
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.isEnded() {
				return
			}
			s.log.Debug("RTP read failed", "error", err)
			continue
		}
		if d, ok := s.receivePacket(s.rxBuf[:n], from, time.Now()); ok {
			select {
			case s.digitsIn <- d:
			default:
				s.mu.Lock()
				s.stats.DigitsDropped++
				s.mu.Unlock()
			}
		}
	}
}

func (s *Session) isEnded() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// receivePacket is the receive path for one datagram from the socket: it
// refuses what is not RTP of a negotiated payload type from the peer,
// latches symmetric RTP onto the peer's source (see trustSource), and
// hands the packet to the receiver, and in a Relay forwards it to the
// other leg. It returns the key of a DTMF key press the packet starts.
func (s *Session) receivePacket(pkt []byte, from netip.AddrPort, now time.Time) (rune, bool) {
	h, payload, err := parseRTP(pkt)
	from = unmap(from)
	s.mu.Lock()
	switch {
	case errors.Is(err, errRTCP):
		s.stats.RTCP++
		s.mu.Unlock()
		return 0, false
	case err != nil || !s.rx.knows(h.PayloadType):
		s.stats.Invalid++
		s.mu.Unlock()
		return 0, false
	case !s.trustSource(from, h):
		s.stats.Ignored++
		s.mu.Unlock()
		return 0, false
	}
	latched := s.source != from
	s.source, s.latched = from, true
	s.lastRx = now
	s.stats.PacketsIn++
	s.stats.BytesIn += uint64(len(payload))
	// In a relay the peer's audio goes straight to the other leg, so it
	// skips the jitter buffer no one plays out; events still reach the
	// DTMF receiver, so DTMF keeps reporting key presses.
	out, codec := s.relayOut, s.codec
	event := int(h.PayloadType) == s.dtmfPT
	var d rune
	var ok bool
	if out == nil || event {
		d, ok = s.rx.packet(h, payload)
	}
	if ok {
		s.stats.DigitsIn++
	}
	s.mu.Unlock()
	if out != nil {
		// Forwarded now, in the reader, without s.mu: the other leg's
		// reader forwards the other way under its own lock (relay.go).
		out.forward(h, payload, codec, event)
	}
	if latched {
		s.log.Debug("RTP source latched", "source", from.String())
	}
	return d, ok
}

// tickLoop runs the packet clock until the session ends.
func (s *Session) tickLoop(period time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(period)
	defer t.Stop()
	due := time.Now().Add(period) // when the next packet is due
	for {
		select {
		case <-s.done:
			return
		case now := <-t.C:
			// A time.Ticker drops ticks its reader misses, so on a
			// loaded machine packets would go missing for good. Send
			// every packet that has come due since the last wake-up, up
			// to maxCatchUp; after a longer stall, start afresh rather
			// than burst.
			// A packet counts as due within half a period, so that tick
			// jitter neither skips one nor sends one twice.
			for sent := 0; now.Add(period / 2).After(due); sent++ {
				if sent == maxCatchUp {
					due = now.Add(period)
					break
				}
				next, stop := s.tick(now)
				if stop {
					return
				}
				due = due.Add(period)
				if next != period {
					period, due = next, now.Add(next)
					t.Reset(period)
				}
			}
		}
	}
}

// maxCatchUp bounds the packets one wake-up of the packet clock sends
// when it woke late: 100 ms of audio at 20 ms.
const maxCatchUp = 5

// tick runs one packet time: step, then send what it produced.
func (s *Session) tick(now time.Time) (period time.Duration, stop bool) {
	pkt, dst, period, stop := s.step(now)
	if stop {
		return 0, true
	}
	if pkt != nil {
		if _, err := s.conn.WriteToUDPAddrPort(pkt, dst); err != nil && s.sendErrors.Add(1) == 1 {
			s.log.Debug("RTP send failed", "to", dst.String(), "error", err)
		}
	}
	return period, false
}

// step does one packet time's work under the lock: it checks the RTP
// timeout, plays out a packet time of received audio for ReadFrame and
// builds the packet to send, if any. The packet aliases the sender's
// buffer. It returns the packet time to tick at next, and stop when the
// session has ended.
func (s *Session) step(now time.Time) (pkt []byte, dst netip.AddrPort, period time.Duration, stop bool) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return nil, dst, 0, true
	}
	if s.timeout > 0 && s.dir.Receives() && now.Sub(s.lastRx) >= s.timeout {
		s.mu.Unlock()
		if s.end(ErrRTPTimeout) {
			s.log.Info("RTP timeout", "after", s.timeout)
		}
		return nil, dst, 0, true
	}
	samples := int(s.ptime * SampleRate / time.Second)
	s.receiveAudio(samples)
	pkt, dst = s.nextPacket(samples)
	period = s.ptime
	s.mu.Unlock()
	notify(s.frameIn)
	return pkt, dst, period, false
}

// notify leaves a token in a 1-buffered channel without blocking.
func notify(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// learnPackets is how many in-sequence packets of one SSRC a source must
// send before sipagent trusts it as the peer (see trustSource).
const learnPackets = 4

// learnSlots is how many candidate sources are learned at once, so that a
// stranger's packets cannot keep resetting the real caller's learning.
const learnSlots = 4

// trustSource decides whether a valid RTP packet from from belongs to the
// peer, latching symmetric RTP (RFC 4961) in a way a stranger who guesses
// the port cannot hijack. Call with s.mu held.
//
//   - Before any latch, the address the SDP named is the peer: its first
//     packet latches.
//   - Any other source (a caller behind NAT, whose SDP names a private
//     address) is learned: it must send learnPackets packets in sequence
//     with one SSRC, as a real stream does, before it latches. A stray or
//     spoofed packet cannot take the call's audio.
//   - Once latched, only the latched source is taken. The signalled
//     address may take the latch back (from a stranger who won the race),
//     but only with a real stream too, so that one packet spoofed from a
//     NATed caller's private address cannot redirect the call.
func (s *Session) trustSource(from netip.AddrPort, h rtpHeader) bool {
	switch {
	case s.latched && from == s.source:
		return true
	case !s.latched && from == s.remote:
		return true
	case s.latched && from != s.remote:
		return false
	}
	return s.learn.stream(from, h)
}

// learning tracks the candidate sources of a session while it learns.
type learning struct {
	slots [learnSlots]candidate
	clock uint64 // counts packets, to find the least recently seen slot
}

type candidate struct {
	source netip.AddrPort
	ssrc   uint32
	seq    uint16
	n      int    // packets in sequence so far; 0: slot free
	seen   uint64 // learning.clock when last seen
}

// stream records a packet from from and reports whether that source has
// now sent learnPackets in sequence; if so its slots are cleared.
func (l *learning) stream(from netip.AddrPort, h rtpHeader) bool {
	l.clock++
	c := &l.slots[0]
	for i := range l.slots {
		if l.slots[i].n > 0 && l.slots[i].source == from {
			c = &l.slots[i]
			break
		}
		if l.slots[i].seen < c.seen {
			c = &l.slots[i] // least recently seen (or free) so far
		}
	}
	if c.n == 0 || c.source != from || h.SSRC != c.ssrc || h.Sequence != c.seq+1 {
		*c = candidate{source: from, ssrc: h.SSRC, seq: h.Sequence, n: 1, seen: l.clock}
		return false
	}
	c.seq, c.n, c.seen = h.Sequence, c.n+1, l.clock
	if c.n < learnPackets {
		return false
	}
	*l = learning{}
	return true
}
