package media

// receiver is the receive half of a Session: it sorts the peer's RTP
// packets into audio for the jitter buffer and telephone events for the
// DTMF receiver, and plays the audio out as PCM at the session's pace.
// The Session's mutex guards it; it allocates nothing after newReceiver.
type receiver struct {
	codec  Codec
	dtmfPT int // -1: telephone-event not negotiated
	jb     *JitterBuffer
	dtmf   DTMFReceiver

	ssrc, dtmfSSRC         uint32
	haveSSRC, haveDTMFSSRC bool
	badEvents              uint64 // telephone-event payloads too short to parse

	payload   [MaxPayloadSize]byte      // popped from the jitter buffer
	stage     [2 * MaxPayloadSize]int16 // decoded samples not yet played
	staged    int                       // samples in stage
	last      [MaxPayloadSize]int16     // the last packet decoded, for concealment
	lastN     int                       // samples in last
	concealed int                       // packets concealed in a row
}

func newReceiver(c Codec, dtmfPT, depth int) *receiver {
	return &receiver{
		codec:  c,
		dtmfPT: dtmfPT,
		jb:     NewJitterBuffer(depth, jitterCapacity(depth)),
	}
}

// jitterCapacity sizes a session's jitter buffer from its playout depth:
// room to reorder across four times the depth (16 packets, 320 ms at the
// default depth and ptime) without holding a second of audio per call.
func jitterCapacity(depth int) int {
	if depth <= 0 {
		depth = DefaultJitterDepth
	}
	return min(max(4*depth+4, 16), DefaultJitterCapacity)
}

// knows reports whether pt is a payload type the session negotiated.
func (r *receiver) knows(pt uint8) bool {
	return pt == r.codec.PayloadType || int(pt) == r.dtmfPT
}

// packet takes one RTP packet of a negotiated payload type from the
// peer, and returns the key of a DTMF key press it starts. A new SSRC
// starts its stream afresh (RFC 3550 s.8.2: a source may change SSRC).
func (r *receiver) packet(h rtpHeader, payload []byte) (rune, bool) {
	if int(h.PayloadType) == r.dtmfPT {
		if r.haveDTMFSSRC && h.SSRC != r.dtmfSSRC {
			r.dtmf.Reset()
		}
		r.dtmfSSRC, r.haveDTMFSSRC = h.SSRC, true
		if r.haveSSRC && h.SSRC == r.ssrc {
			r.jb.PushEvent(h.Sequence, h.Timestamp)
		}
		ev, err := ParseTelephoneEvent(payload)
		if err != nil {
			r.badEvents++
			return 0, false
		}
		return r.dtmf.Receive(h.Timestamp, ev)
	}
	if r.haveSSRC && h.SSRC != r.ssrc {
		r.jb.Reset()
	}
	r.ssrc, r.haveSSRC = h.SSRC, true
	r.jb.Push(h.Sequence, h.Timestamp, payload)
	return 0, false
}

// setCodec switches the payload format. Packets held in the old one are
// dropped: the format they were sent in is no longer known.
func (r *receiver) setCodec(c Codec) {
	if c == r.codec {
		return
	}
	r.codec = c
	r.jb.Reset()
	r.staged, r.lastN = 0, 0
}

// playout fills dst with the next len(dst) samples (at most
// MaxPayloadSize) of the caller's audio. Packets are popped until dst is
// covered, so the peer's packet time need not match ours; samples left
// over wait for the next call. A missing packet is concealed by
// repeating the last one at half amplitude once, then silence; when the
// jitter buffer has nothing to play, the rest is silence.
func (r *receiver) playout(dst []int16) {
	for r.staged < len(dst) {
		n, st := r.jb.Pop(r.payload[:])
		switch st {
		case PopPacket:
			k := r.codec.Decode(r.stage[r.staged:], r.payload[:n])
			r.lastN = copy(r.last[:], r.stage[r.staged:r.staged+k])
			r.staged += k
			r.concealed = 0
		case PopMissing:
			k := r.lastN
			if k == 0 {
				k = len(dst) - r.staged
			}
			r.conceal(r.stage[r.staged : r.staged+k])
			r.staged += k
		default: // PopEmpty
			copy(dst, r.stage[:r.staged])
			clear(dst[r.staged:])
			r.staged = 0
			r.concealed++
			return
		}
	}
	copy(dst, r.stage[:len(dst)])
	r.staged = copy(r.stage[:], r.stage[len(dst):r.staged])
}

// conceal fills dst in place of a lost packet.
func (r *receiver) conceal(dst []int16) {
	if r.concealed > 0 || r.lastN == 0 {
		clear(dst)
		r.concealed++
		return
	}
	for i := range dst {
		dst[i] = r.last[i%r.lastN] / 2 // -6 dB
	}
	r.concealed++
}
