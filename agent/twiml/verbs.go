package twiml

import "time"

// Verb is one instruction of a TwiML document: one of *Say, *Play,
// *Pause, *Gather, *Forward, *Connect, *Redirect, *Hangup or *Reject.
type Verb interface{ verb() string }

// Say speaks Text, Loop times (0: over and over, as Twilio's loop="0",
// bounded by MaxLoop).
type Say struct {
	Text string
	Loop int
}

// Play plays the WAV file at URL, Loop times (0: MaxLoop).
type Play struct {
	URL  string
	Loop int
}

// Pause waits in silence.
type Pause struct {
	Length time.Duration
}

// Gather collects DTMF digits while its prompts (Say, Play, Pause) play;
// the first key stops the prompts. Input ends at NumDigits digits (0:
// no limit), at FinishOnKey (not kept; 0: none), or Timeout after the
// last key or the prompts' end. What was entered goes to Action (""
// means the document's own URL) as Digits; with nothing entered the
// document goes on with the next verb.
//
// With Speech set (input="speech" or "dtmf speech") it listens too: the
// caller's first words stop the prompts, and what they said goes to
// Action as SpeechResult and Confidence; Timeout is then the wait for
// speech to start.
type Gather struct {
	NumDigits   int
	FinishOnKey rune
	Timeout     time.Duration
	Action      string
	Method      string
	Prompts     []Verb
	Speech      *SpeechInput
}

// SpeechInput is how a Gather listens for speech.
type SpeechInput struct {
	// DTMF says keys count too (input="dtmf speech"); without it keys
	// are ignored.
	DTMF bool
	// EndSilence is the pause that ends the caller's answer
	// (speechTimeout, which defaults to timeout); 0 for speechTimeout=
	// "auto": the recognizer's own endpointing.
	EndSilence time.Duration
	// MaxSpeechTime bounds the answer (maxSpeechTime; default 60 s).
	MaxSpeechTime time.Duration
	// Hints are words and phrases the caller is likely to say.
	Hints []string
	// Language is a BCP 47 tag ("" for the recognizer's default; Twilio
	// defaults to en-US).
	Language string
}

// Forward is a <Dial> or <Refer>. The element is kept as written, in a
// document of its own (TwiML), for the call's transfer service to parse
// and police; the agent reads only its action.
type Forward struct {
	Name   string // Dial or Refer
	TwiML  string // <Response> holding the element alone
	Action string
	Method string
}

// Connect hands the call to a Media Streams WebSocket agent.
type Connect struct {
	URL        string
	Parameters map[string]string
	Action     string
	Method     string
}

// Redirect fetches the next document from URL.
type Redirect struct {
	URL    string
	Method string
}

// Hangup ends the call.
type Hangup struct{}

// Reject refuses a call not yet answered: Reason "busy" (486) or
// "rejected" (603).
type Reject struct {
	Reason string
}

func (*Say) verb() string      { return "Say" }
func (*Play) verb() string     { return "Play" }
func (*Pause) verb() string    { return "Pause" }
func (*Gather) verb() string   { return "Gather" }
func (*Forward) verb() string  { return "Forward" }
func (*Connect) verb() string  { return "Connect" }
func (*Redirect) verb() string { return "Redirect" }
func (*Hangup) verb() string   { return "Hangup" }
func (*Reject) verb() string   { return "Reject" }
