package media

import "math/rand/v2"

// sender is the send half of a Session: it numbers and stamps the
// packets of one RTP stream and marshals them into a reused buffer. The
// Session's mutex guards it, except that the packet it returns is written
// to the socket by the ticker goroutine after unlocking; only that
// goroutine marshals, so the buffer is not overwritten meanwhile.
type sender struct {
	ssrc uint32
	seq  uint16
	ts   uint32
	buf  [rtpHeaderSize + MaxPayloadSize]byte
	pcm  [MaxPayloadSize]int16 // samples taken from the playout queue
}

// newSender starts a stream with a random SSRC, sequence number and
// timestamp (RFC 3550 s.5.1, s.8).
func newSender() *sender {
	return &sender{ssrc: rand.Uint32(), seq: uint16(rand.Uint32()), ts: rand.Uint32()}
}

// audio marshals the next packet of the stream: pcm encoded with c. The
// packet aliases the sender's buffer.
func (s *sender) audio(c Codec, pcm []int16, marker bool) []byte {
	n := c.Encode(s.buf[rtpHeaderSize:], pcm)
	return s.finish(c.PayloadType, s.ts, marker, n)
}

// silence marshals a packet of samples zero samples in c.
func (s *sender) silence(c Codec, samples int, marker bool) []byte {
	p := s.buf[rtpHeaderSize : rtpHeaderSize+min(samples, MaxPayloadSize)]
	b := c.SilenceByte()
	for i := range p {
		p[i] = b
	}
	return s.finish(c.PayloadType, s.ts, marker, len(p))
}

// event marshals one telephone-event packet. Its timestamp is that of
// the event's start, not the stream's current one (RFC 4733 s.2.2.1).
func (s *sender) event(pt uint8, start uint32, p DigitPacket) []byte {
	n := p.Event.MarshalTo(s.buf[rtpHeaderSize:])
	return s.finish(pt, start, p.Marker, n)
}

func (s *sender) finish(pt uint8, ts uint32, marker bool, n int) []byte {
	s.stamp(s.buf[:], pt, ts, marker)
	return s.buf[:rtpHeaderSize+n]
}

// stamp writes the header of the stream's next packet into b, which must
// hold rtpHeaderSize bytes, and moves the sequence number on. A relay
// stamps the packets it forwards into this stream with it, in its own
// buffer, so the peer sees one stream whoever built the packet.
func (s *sender) stamp(b []byte, pt uint8, ts uint32, marker bool) {
	putRTPHeader(b, rtpHeader{Marker: marker, PayloadType: pt, Sequence: s.seq, Timestamp: ts, SSRC: s.ssrc})
	s.seq++
}

// catchUp moves the stream's clock on to end, the timestamp just past a
// relayed packet, if end is ahead of it (serial arithmetic). Relayed
// packets keep the other leg's spacing, whose clock may run a little
// ahead of ours; this keeps the stream's timestamps from going back when
// the next anchor, or the session's own packets, take the clock again.
func (s *sender) catchUp(end uint32) {
	if int32(end-s.ts) > 0 {
		s.ts = end
	}
}

// advance moves the stream's clock on by samples. It runs every packet
// time whether or not a packet went out, so the timestamp follows the
// sampling clock through silence and pauses (RFC 3550 s.5.1).
func (s *sender) advance(samples int) { s.ts += uint32(samples) }
