// Package twiml runs TwiML webhook applications on calls, as Twilio's
// voice platform does: on a call the Agent requests the application's
// URL with Twilio's parameters (CallSid, From, To, SipHeader_X-...),
// signed with X-Twilio-Signature when an auth token is configured, and
// carries out the TwiML document it gets back verb by verb: Say, Play,
// Pause, Gather (DTMF), Dial and Refer (through the call's transfer
// service), Connect/Stream, Redirect, Hangup and Reject. Gather, Dial and
// Refer report their outcome to their action URL, whose answer is the
// next document.
//
// Parse reads a document into Verbs. It is strict about the verbs it
// knows and their values, lenient about attributes it does not use, and
// refuses unknown verbs, so a broken application ends in the agent's
// fallback rather than in silence.
package twiml
