// Package agenttest provides a scripted agent.Call for unit tests of
// agents.
//
// A test builds a Call, starts its agent on it with Start, then plays the
// caller's part: SendAudio feeds 20 ms frames, Press sends DTMF keys and
// Hangup ends the call. Everything the agent does is recorded (audio
// written, ClearAudio calls, transfer requests) and Await blocks until the
// record satisfies a condition, so tests wait on events rather than sleep.
//
// The Call plays audio instantly: WaitPlayed returns at once unless the
// Call was built WithManualPlayout, which keeps written audio queued until
// the test calls FinishPlayout or the agent calls ClearAudio. It has no
// notion of real time, jitter or codecs; those belong to the media and sip
// packages and their tests.
package agenttest
