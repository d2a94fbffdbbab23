// Package sdp negotiates the audio of sipagent's calls with the SDP
// offer/answer model (RFC 3264) over session descriptions in the RFC 8866
// format (which obsoletes RFC 4566), built on github.com/pion/sdp/v3.
//
// Negotiate answers a peer's offer, Offer builds our own offer (for an
// INVITE without a body, and for outbound calls) and ParseAnswer reads the
// answer to it. Each returns a Media: the codec, DTMF payload type
// (RFC 4733 telephone-event), packet time, remote RTP address and direction
// that the media package needs to run the call.
//
// The package knows the codecs of the media package and nothing of SIP
// transactions or dialogs; a failed negotiation is an *Error that names the
// SIP status code and Warning header (RFC 3261 section 20.43) to respond
// with, so the response is decided where the failure is understood.
//
// Only plain RTP audio is negotiated (RTP/AVP, and RTP/AVPF answered as
// such): SRTP (RTP/SAVP, RTP/SAVPF, UDP/TLS/RTP/SAVPF), video, T.38 and any
// second audio stream are refused stream by stream as RFC 3264 section 6
// describes.
package sdp
