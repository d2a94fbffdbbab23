package media

import (
	"context"
	"fmt"
	"net/netip"
	"time"
)

// ReadFrame waits for the next 20 ms frame of the caller's audio and
// copies it into frame, which must hold FrameSamples samples; it returns
// FrameSamples. Frames come at the pace of the packet clock from Start
// on: decoded audio, concealment, or silence while nothing arrives, on
// hold included. About a second of frames waits for a slow reader; past
// that the oldest are dropped and counted. After the session ends it
// returns ErrClosed.
func (s *Session) ReadFrame(ctx context.Context, frame []int16) (int, error) {
	if len(frame) < FrameSamples {
		return 0, ErrShortBuffer
	}
	for {
		s.mu.Lock()
		if s.ended {
			s.mu.Unlock()
			return 0, ErrClosed
		}
		if s.frames.len() >= FrameSamples {
			n := s.frames.read(frame[:FrameSamples])
			s.mu.Unlock()
			return n, nil
		}
		s.mu.Unlock()
		select {
		case <-s.frameIn:
		case <-s.done:
			return 0, ErrClosed
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// Write queues a copy of pcm (16-bit, 8 kHz) to be sent, blocking while
// the queue (one second) is full. If Clear is called while Write blocks,
// the rest of pcm is dropped and Write returns nil. Writes from several
// goroutines interleave in chunks.
func (s *Session) Write(ctx context.Context, pcm []int16) error {
	s.mu.Lock()
	gen := s.clearGen
	for {
		if s.ended {
			s.mu.Unlock()
			return ErrClosed
		}
		if s.clearGen != gen {
			s.mu.Unlock()
			return nil
		}
		pcm = pcm[s.playout.write(pcm):]
		s.mu.Unlock()
		if len(pcm) == 0 {
			return nil
		}
		select {
		case <-s.space:
		case <-s.done:
			return ErrClosed
		case <-ctx.Done():
			return ctx.Err()
		}
		s.mu.Lock()
	}
}

// Clear drops all queued audio at once (barge-in).
func (s *Session) Clear() {
	s.mu.Lock()
	s.playout.reset()
	s.clearGen++
	s.drained()
	s.mu.Unlock()
	notify(s.space)
}

// WaitPlayed waits until the playout queue is empty: everything written
// has been sent, or cleared. Playout pauses while the session may not
// send (on hold, or before it knows where to send) or is in a Relay, and
// WaitPlayed waits through the pause.
func (s *Session) WaitPlayed(ctx context.Context) error {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return ErrClosed
	}
	if s.playout.len() == 0 {
		s.mu.Unlock()
		return nil
	}
	if s.played == nil {
		s.played = make(chan struct{})
	}
	played := s.played
	s.mu.Unlock()
	select {
	case <-played:
		return nil
	case <-s.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// drained wakes WaitPlayed. Call with s.mu held once the queue is empty.
func (s *Session) drained() {
	if s.played != nil {
		close(s.played)
		s.played = nil
	}
}

// DTMF delivers the key presses the peer sends as RFC 4733 events, one
// rune per press. It is closed when the session's reader stops: at Close,
// or at an RTP timeout.
func (s *Session) DTMF() <-chan rune { return s.digitsIn }

// SendDTMF sends key digit ('0'-'9', '*', '#', 'A'-'D') as RFC 4733
// events lasting d (zero: DefaultDTMFDuration; clamped to
// MinDTMFDuration-MaxDTMFDuration), in place of audio, which resumes
// after. It waits for a key press already being sent, and returns once
// its own has been sent. If ctx ends first, the key press still goes out
// whole so the peer never sees a key stuck down. It returns ErrNoDTMF
// when telephone-event is not negotiated.
func (s *Session) SendDTMF(ctx context.Context, digit rune, d time.Duration) error {
	if _, ok := DigitEvent(digit); !ok {
		return fmt.Errorf("%w: %q", ErrInvalidDigit, digit)
	}
	for {
		s.mu.Lock()
		if s.ended {
			s.mu.Unlock()
			return ErrClosed
		}
		if s.dtmfPT < 0 {
			s.mu.Unlock()
			return ErrNoDTMF
		}
		busy := s.digitEnd != nil
		if !busy {
			digits, err := AppendDigitPackets(s.digits[:0], digit, d, s.ptime)
			if err != nil {
				s.mu.Unlock()
				return err
			}
			s.digits, s.digitAt = digits, 0
			s.digitEnd = make(chan struct{})
		}
		wait := s.digitEnd
		s.mu.Unlock()
		select {
		case <-wait:
			if !busy {
				return nil
			}
		case <-s.done:
			return ErrClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// finishDigit ends the key press being sent, if any. Call with s.mu held.
func (s *Session) finishDigit() {
	if s.digitEnd != nil {
		close(s.digitEnd)
		s.digitEnd = nil
	}
	s.digits, s.digitAt = s.digits[:0], 0
}

// receiveAudio plays out samples of received audio into the frame queue
// for ReadFrame, dropping whole frames, oldest first, if the reader lags.
// Call with s.mu held.
func (s *Session) receiveAudio(samples int) {
	pcm := s.rxPCM[:samples]
	s.rx.playout(pcm)
	if over := samples - s.frames.free(); over > 0 {
		drop := (over + FrameSamples - 1) / FrameSamples
		s.frames.discard(drop * FrameSamples)
		s.stats.FramesDropped += uint64(drop)
	}
	s.frames.write(pcm)
}

// destination returns where to send: the latched source, else the
// signalled remote address if it is a usable one. Call with s.mu held.
func (s *Session) destination() (netip.AddrPort, bool) {
	if s.latched {
		return s.source, true
	}
	r := s.remote
	return r, r.IsValid() && !r.Addr().IsUnspecified() && r.Port() != 0
}

// nextPacket builds the packet to send this packet time, or returns nil
// when the session may not send. A key press being sent replaces audio;
// in a relay nothing else goes out (the other leg's packets do, see
// Relay); otherwise the next samples of the playout queue go out, padded
// with silence, and an empty queue sends encoded silence. The marker bit
// flags the first packet of the stream and the first audio after
// silence, a pause or a key press (RFC 3551 s.4.1). The timestamp moves
// on by samples either way. Call with s.mu held.
func (s *Session) nextPacket(samples int) ([]byte, netip.AddrPort) {
	defer s.tx.advance(samples)
	dst, ok := s.destination()
	if !ok || !s.dir.Sends() {
		s.talking = false
		return nil, dst
	}
	var pkt []byte
	if s.digitAt < len(s.digits) {
		if s.digitAt == 0 {
			s.digitTS = s.tx.ts
		}
		pkt = s.tx.event(uint8(s.dtmfPT), s.digitTS, s.digits[s.digitAt])
		s.digitAt++
		if s.digitAt == len(s.digits) {
			s.finishDigit()
			s.stats.DigitsOut++
		}
		s.talking = false
	} else if s.relayOut != nil {
		// Relayed into: the other leg's packets are the stream now, sent
		// as they arrive (relay.go). The clock still moves on, and queued
		// audio waits, as on hold.
		s.talking = false
		return nil, dst
	} else if n := s.playout.read(s.tx.pcm[:samples]); n > 0 {
		clear(s.tx.pcm[n:samples])
		pkt = s.tx.audio(s.codec, s.tx.pcm[:samples], !s.talking || !s.sentAny)
		s.talking = true
		notify(s.space)
		if s.playout.len() == 0 {
			s.drained()
		}
	} else {
		pkt = s.tx.silence(s.codec, samples, !s.sentAny)
		s.talking = false
	}
	s.sentAny = true
	s.stats.PacketsOut++
	s.stats.BytesOut += uint64(len(pkt) - rtpHeaderSize)
	return pkt, dst
}
