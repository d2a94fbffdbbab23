// Package media moves a call's audio: RTP in and out of a UDP socket,
// G.711 to and from 16-bit PCM, a jitter buffer, RFC 4733 telephone events,
// and a paced sender. It is the floor of sipagent and knows nothing of SIP:
// the sip package negotiates with SDP and hands media a remote address, a
// codec, a DTMF payload type and a packet time.
//
// The per-packet paths allocate nothing: payloads are decoded into reused
// buffers and packets are marshalled into reused byte slices.
package media
