// Package stream connects calls to conversational agents that speak
// Twilio's bidirectional Media Streams protocol over a WebSocket: Pipecat
// (TwilioFrameSerializer), Fonoster-style bots and the many Twilio demo
// apps. sipagent is the telephony side and the WebSocket client; the agent
// is the server. New makes an agent.Agent that streams every call to one
// URL, with a fallback agent for when the stream cannot be opened or ends;
// Run streams one call to a URL of its own, as TwiML <Connect><Stream>
// does, and says how the stream ended so the caller can go on. It does no
// speech processing, and no other WebSocket envelope (Deepgram, Vapi).
//
// On each call the client sends connected, then start (streamSid,
// callSid, accountSid, customParameters, and the media format: mu-law,
// 8000 Hz, mono), then a media message per 20 ms of the caller's audio
// (base64 mu-law, numbered by sequenceNumber and chunk, timestamped in ms
// of audio), a dtmf message per key press, a mark message each time the
// audio the agent queued before one of its marks has been played (or
// cleared), and stop when the call ends. The agent sends media (base64
// mu-law of any length, queued and played in order at the call's pace),
// mark, and clear, which drops all queued audio at once (barge-in) and
// returns the pending marks. Every queue between the call and the socket
// is bounded: a slow agent loses old caller audio rather than holding up
// the call, an agent far ahead loses audio past a minute, and a bad
// message is logged and skipped.
package stream
