// Package media moves a call's audio: RTP in and out of a UDP socket,
// G.711 to and from 16-bit PCM, a jitter buffer, RFC 4733 telephone events,
// and a paced sender. It is the floor of sipagent and knows nothing of SIP:
// the sip package negotiates with SDP and hands media a remote address, a
// codec, a DTMF payload type, a packet time and a direction.
//
// A PortPool hands out RTP sockets; a Session runs one call's media on one
// of them, with symmetric RTP (RFC 4961). RTCP is not sent, and RTCP that
// arrives on the RTP port is counted and ignored; there is no SRTP.
//
// The per-packet paths allocate nothing: payloads are decoded into reused
// buffers and packets are marshalled into reused byte slices.
package media
