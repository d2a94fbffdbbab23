// Package sip is sipagent's signalling layer: it serves SIP over UDP, TCP
// and TLS on sipgo, answers INVITEs with an SDP answer negotiated by sip/sdp,
// runs each call's audio through a media.Session, and hands the answered
// call to an agent.Agent through the agent.Call interface. Agents never
// see SIP messages.
//
// The layering follows RFC 3261: sipgo provides transport and
// transactions; this package adds the dialog bookkeeping sipagent needs
// (re-INVITE, BYE in both directions, 481 for unknown dialogs) and the call
// layer on top.
package sip
