// Package transfer is call forwarding the way TwiML <Dial><Sip> and
// <Refer><Sip> do it: hand the caller to another SIP destination with a
// REFER (blind transfer, RFC 3515), or place a new call there and bridge
// the two legs.
//
// The parts:
//
//   - Target: a forwarding destination with everything <Dial> and <Sip> can
//     say (the SIP URI with transport, secure, region and edge, custom
//     headers, digest credentials, ring timeout, time limit, caller ID,
//     answerOnBridge, hangupOnStar and the mode), or a user registered to
//     sipagent (client:NAME, <Dial><Client>). ParseTarget reads the URI
//     as <Sip> gives it; ReferTo renders it for a REFER's Refer-To.
//   - ParseTwiML: a strict reader of <Response> documents holding <Dial>
//     and <Refer>. Other verbs are reported as *UnsupportedVerbError for
//     the TwiML agent to handle.
//   - Policy: the toll-fraud allow-list (config key transfer.allow). Nothing
//     is forwarded unless a pattern allows it; an empty list denies all
//     but sipagent's own registered users.
//   - Service: the sip.Transferrer that carries out agents' requests with
//     the sip package's REFER (Call.Refer) or a bridge (Server.DialURI and
//     a media.Relay between the legs), and checks the REFERs callers send.
//
// Everything a Target holds may end up in a SIP request (the Request-URI,
// Refer-To, custom headers, From), and most of it comes from a document an
// agent or a caller-influenced web service wrote. So parsing is strict:
// values that could inject header lines (CR, LF, NUL and other control
// characters), that different parsers could read differently (a second
// '@', '?' or ';' in the user part, '[' in parameters), or that could move
// the call somewhere the allow-list did not check (maddr) are refused with
// an error that says which part is wrong.
package transfer
