package media

import "encoding/binary"

// rtpHeaderSize is the size of the fixed RTP header (RFC 3550 s.5.1).
// Packets media sends carry no CSRC list and no extension, so this is
// also the size of every header it writes.
const rtpHeaderSize = 12

// rtpHeader holds the RTP header fields the receive and send paths use.
// CSRCs and header extensions are skipped, not kept: a two-party call has
// no use for them.
type rtpHeader struct {
	Marker      bool
	PayloadType uint8
	Sequence    uint16
	Timestamp   uint32
	SSRC        uint32
}

// parseRTP parses an RTP packet (RFC 3550 s.5.1) and returns its header
// and payload. The payload aliases pkt. It never allocates, so the
// receive path stays allocation-free even when it is fed garbage;
// pion/rtp's Header.Unmarshal allocates for CSRCs, extensions and every
// error.
//
// RTCP multiplexed onto the port is reported as errRTCP: its second
// octet, marker bit included, falls in 192-223, where RFC 5761 s.4 keeps
// RTP payload types out.
func parseRTP(pkt []byte) (rtpHeader, []byte, error) {
	if len(pkt) < 2 || pkt[0]>>6 != 2 {
		return rtpHeader{}, nil, errNotRTP
	}
	if pkt[1] >= 192 && pkt[1] <= 223 {
		return rtpHeader{}, nil, errRTCP
	}
	if len(pkt) < rtpHeaderSize {
		return rtpHeader{}, nil, errShortRTP
	}
	h := rtpHeader{
		Marker:      pkt[1]&0x80 != 0,
		PayloadType: pkt[1] & 0x7f,
		Sequence:    binary.BigEndian.Uint16(pkt[2:]),
		Timestamp:   binary.BigEndian.Uint32(pkt[4:]),
		SSRC:        binary.BigEndian.Uint32(pkt[8:]),
	}
	n := rtpHeaderSize + 4*int(pkt[0]&0x0f) // CSRC list
	if len(pkt) < n {
		return rtpHeader{}, nil, errShortRTP
	}
	if pkt[0]&0x10 != 0 { // header extension, RFC 3550 s.5.3.1
		if len(pkt) < n+4 {
			return rtpHeader{}, nil, errBadHeaderEx
		}
		n += 4 + 4*int(binary.BigEndian.Uint16(pkt[n+2:]))
		if len(pkt) < n {
			return rtpHeader{}, nil, errBadHeaderEx
		}
	}
	end := len(pkt)
	if pkt[0]&0x20 != 0 { // padding: the last octet counts the padding octets, itself included
		pad := int(pkt[end-1])
		if pad == 0 || end-n < pad {
			return rtpHeader{}, nil, errBadPadding
		}
		end -= pad
	}
	return h, pkt[n:end], nil
}

// putRTPHeader writes a version 2 header without CSRCs, extension or
// padding into b, which must hold rtpHeaderSize bytes.
func putRTPHeader(b []byte, h rtpHeader) {
	_ = b[rtpHeaderSize-1]
	b[0] = 2 << 6
	b[1] = h.PayloadType & 0x7f
	if h.Marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], h.Sequence)
	binary.BigEndian.PutUint32(b[4:], h.Timestamp)
	binary.BigEndian.PutUint32(b[8:], h.SSRC)
}
