// Package voiceflow runs Voiceflow agents on calls through Voiceflow's
// Dialog Manager API: sipagent launches the conversation when the call is
// answered, sends what the caller says (recognised speech) and presses
// (DTMF), and carries out the traces that come back: it speaks `speak`
// traces (their TTS audio, or the text through the synthesizer), hangs up
// on `end`, and runs Voiceflow's telephony custom actions itself: `twiml`
// (forwarding with <Dial><Sip> or <Refer>, or other TwiML), `forward-call`,
// `DTMF` and `interruption`.
//
// When the runtime cannot be reached or answers with something unusable,
// the caller hears a short apology and the call goes to the fallback
// agent, never to silence.
package voiceflow
