// Package agent is the boundary between a phone call and a conversation.
//
// An Agent is handed a Call once the call is answered. Through the Call it
// sees the call's facts (Info), reads the caller's audio as 20 ms frames of
// 16-bit PCM at 8 kHz, receives DTMF digits, queues audio to play, stops
// playback at once (barge-in) and may ask for a transfer. Returning from
// Serve hangs the call up. When the caller hangs up, the context passed to
// Serve is cancelled and the Call's blocking methods return ErrHangup.
//
// Agents never see SIP messages: the sip package implements Call, and the
// agent subpackages (echo, flow, and later WebSocket, TwiML and Voiceflow
// agents) implement Agent.
package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
	"time"
)

// SampleRate is the PCM sample rate agents hear and speak, in Hz.
const SampleRate = 8000

// FrameSamples is the number of samples in one 20 ms frame at SampleRate.
const FrameSamples = SampleRate / 50

// ErrHangup is returned by a Call's blocking methods once the call has ended.
var ErrHangup = errors.New("agent: call ended")

// ErrTransferUnsupported is returned by Call.Transfer while no transfer
// service is configured.
var ErrTransferUnsupported = errors.New("agent: transfer not supported")

// Agent runs one conversation on one call.
type Agent interface {
	// Serve runs until the conversation is over. The call is hung up when
	// Serve returns; an error is logged and counted, never shown to the
	// caller beyond the hang-up.
	Serve(ctx context.Context, call Call) error
}

// AgentFunc adapts a function to the Agent interface.
type AgentFunc func(ctx context.Context, call Call) error

// Serve calls f(ctx, call).
func (f AgentFunc) Serve(ctx context.Context, call Call) error { return f(ctx, call) }

// Call is what an agent sees of a phone call. All methods are safe for
// concurrent use, so an agent may read audio in one goroutine and play
// audio in another.
type Call interface {
	// Info returns the call's facts. The value does not change during
	// the call.
	Info() Info

	// ReadAudio blocks until the next 20 ms frame of the caller's audio
	// is available and copies it into frame, which must hold at least
	// FrameSamples samples. It returns the number of samples copied.
	// Frames an agent does not read in time are dropped, oldest first,
	// so a busy agent never holds up the media path.
	ReadAudio(ctx context.Context, frame []int16) (int, error)

	// WriteAudio queues PCM samples for playback to the caller. It copies
	// pcm and returns once the samples are queued, blocking while the
	// playout queue is full.
	WriteAudio(ctx context.Context, pcm []int16) error

	// ClearAudio drops all queued audio at once (barge-in).
	ClearAudio()

	// WaitPlayed blocks until all audio queued so far has been played
	// (or cleared).
	WaitPlayed(ctx context.Context) error

	// DTMF delivers the digits the caller presses ('0'-'9', '*', '#',
	// 'A'-'D'), one value per key press. It is closed when the call ends.
	DTMF() <-chan rune

	// Transfer asks for the call to be forwarded. Until a transfer
	// service is configured it returns ErrTransferUnsupported.
	Transfer(ctx context.Context, req TransferRequest) (TransferResult, error)

	// Answer answers the call if it is still ringing, and returns once
	// the caller has confirmed the answer (or ErrHangup if the caller
	// gave up first). Calls are answered before Serve runs, unless the
	// agent is an AnswerDeferrer that deferred it; then the first read,
	// write or wait on the audio, a REFER, or a bridge that does not
	// answer on bridge answers it. It does nothing on an answered call.
	Answer(ctx context.Context) error
}

// AnswerDeferrer is an Agent that may run before its call is answered,
// as TwiML runs <Dial answerOnBridge="true"> on a call still ringing: the
// caller hears ringing, or the forwarding target's early media, and is
// answered only when the target answers. If DeferAnswer returns true the
// call rings while Serve runs, until something answers it (see
// Call.Answer). A call Serve returns from unanswered is refused with 480
// Temporarily Unavailable.
type AnswerDeferrer interface {
	Agent
	DeferAnswer(info Info) bool
}

// Info holds the facts of a call that an agent may act on.
type Info struct {
	CallID     string
	From       string // From URI, e.g. sip:+15550100@example.com
	FromName   string // From display name, if any
	To         string // To URI
	RequestURI string
	Source     netip.AddrPort // where the INVITE came from
	Transport  string         // udp, tcp, ...
	Codec      string         // negotiated codec name, e.g. PCMU
	// Direction is inbound for a call sipagent took, outbound-api for
	// one the API placed, outbound-dial for a bridged call's target leg
	// (Twilio's words).
	Direction string
	// Caller says how sipagent let the call in.
	Caller Caller
	// Account is the name of the registration account the call was
	// placed to, when it came for one (the registrar routed it to our
	// Contact, or To is the account's AOR).
	Account string
	// Headers holds every SIP header of the initial INVITE, including
	// X- headers, in the order received. Names keep the case received.
	Headers []Header
}

// CallSid returns a Twilio-style call SID for the call ("CA" and 32 hex
// digits), derived from the SIP Call-ID so that every agent, webhook and
// stream names the same call the same way.
func (i Info) CallSid() string {
	sum := sha256.Sum256([]byte(i.CallID))
	return "CA" + hex.EncodeToString(sum[:16])
}

// Caller is how a call was admitted: Kind is CallerPeer (listed by
// source address), CallerAccount (the registrar or proxy of a
// registration account) or CallerUser (digest credentials); Name is the
// peer, account or user name.
type Caller struct {
	Kind string
	Name string
}

// Caller kinds.
const (
	CallerPeer    = "peer"
	CallerAccount = "account"
	CallerUser    = "user"
)

// Header is one SIP header field.
type Header struct {
	Name  string
	Value string
}

// Header returns the value of the first header named name (compared
// without regard to case), or "".
func (i Info) Header(name string) string {
	for _, h := range i.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// TransferRequest says where and how to forward a call.
type TransferRequest struct {
	// Target is the SIP URI to forward to, as TwiML <Sip> would give it
	// (parameters and ?X-header=value headers included).
	Target string
	// Mode is "refer", "bridge" or "auto" ("" means the configured default).
	Mode string
	// Timeout is how long a bridged target may ring (TwiML <Dial
	// timeout>); 0 means the default, 30 s.
	Timeout time.Duration
	// Username and Password answer a bridged target's digest challenge
	// (TwiML <Sip username password>).
	Username, Password string
	// CallerID is the From user of a bridged call (TwiML <Dial
	// callerId>); "" means the configured default.
	CallerID string
	// TimeLimit ends a bridged call after this long (TwiML <Dial
	// timeLimit>); 0 means the default, 4 hours.
	TimeLimit time.Duration
	// HangupOnStar lets the caller press * to leave a bridged call and
	// return to the agent (TwiML <Dial hangupOnStar>).
	HangupOnStar bool
	// TwiML, if set, is a <Response> document holding one <Dial> or
	// <Refer>, which the transfer service parses (strictly, against its
	// allow-list) in place of Target and the fields above: how the TwiML
	// agent hands over a verb as its application wrote it.
	TwiML string
	// AnswerOnBridge keeps a call that is still ringing unanswered until
	// the bridged target answers (TwiML <Dial answerOnBridge>); the
	// caller hears the target's ringing or early media meanwhile.
	AnswerOnBridge bool
}

// TransferResult tells an agent how a transfer ended.
type TransferResult struct {
	// Status follows TwiML's DialCallStatus / ReferCallStatus words:
	// completed, busy, no-answer, failed, canceled.
	Status string
	// SIPCode is the final SIP status code seen, 0 if none.
	SIPCode int
}
