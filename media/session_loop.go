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
// latches symmetric RTP onto the first valid packet's source, and hands
// the packet to the receiver. It returns the key of a DTMF key press the
// packet starts.
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
	case s.latched && from != s.source:
		s.stats.Ignored++
		s.mu.Unlock()
		return 0, false
	}
	latched := !s.latched
	s.source, s.latched = from, true
	s.lastRx = now
	s.stats.PacketsIn++
	s.stats.BytesIn += uint64(len(payload))
	d, ok := s.rx.packet(h, payload)
	if ok {
		s.stats.DigitsIn++
	}
	s.mu.Unlock()
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
	for {
		select {
		case <-s.done:
			return
		case now := <-t.C:
			pkt, dst, next, stop := s.step(now)
			if stop {
				return
			}
			if pkt != nil {
				if _, err := s.conn.WriteToUDPAddrPort(pkt, dst); err != nil && s.sendErrors.Add(1) == 1 {
					s.log.Debug("RTP send failed", "to", dst.String(), "error", err)
				}
			}
			if next != period {
				period = next
				t.Reset(period)
			}
		}
	}
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
