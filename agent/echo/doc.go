// Package echo is the echo-test agent: it plays the caller's own voice
// back a moment later, which is the quickest way to check both audio
// directions of a call, its latency and its codec.
//
// New returns the echo as a stand-alone agent. Run is the echo loop itself,
// with stop conditions (a DTMF key, a timer) for agents such as the flow
// IVR that use an echo as one step among others. Echo does no processing:
// no gain, no noise suppression, no recording.
package echo
