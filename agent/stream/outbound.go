package stream

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
)

// Track names as Twilio writes them: media messages carry the caller's
// audio as "inbound", while dtmf messages say "inbound_track".
const (
	mediaTrack = "inbound"
	dtmfTrack  = "inbound_track"
)

// formatter turns queued items into the JSON messages of the Media
// Streams protocol, numbering them as they go out. Every message but
// connected carries a sequenceNumber, counting from 1 at start; media
// messages also carry a chunk number, counting from 1. Numbers are given
// when a message is sent, not when it is queued, so frames dropped from
// the queue leave no gap: an agent that checks for gaps sees none, and the
// timestamp shows the audio that is missing.
type formatter struct {
	streamSid, accountSid, callSid string
	params                         map[string]string
	seq, chunk                     uint64
	buf                            []byte // reused for every message
}

// format returns the message for it, valid until the next call.
func (f *formatter) format(it *outItem) []byte {
	if it.kind != outConnected {
		f.seq++
	}
	if it.kind == outMedia {
		f.chunk++
		f.buf = appendMedia(f.buf[:0], f.streamSid, f.seq, f.chunk, it.ts, it.audio[:it.n])
		return f.buf
	}
	f.buf = append(f.buf[:0], f.event(it)...)
	return f.buf
}

// appendMedia appends a media message carrying mulaw to b. It is the one
// message sent fifty times a second, so it is written by hand into a
// reused buffer rather than by encoding/json: every value is a number or
// a SID of hex digits, so nothing needs escaping, and appending allocates
// nothing once b has grown (see BenchmarkMediaMessage).
func appendMedia(b []byte, streamSid string, seq, chunk, timestamp uint64, mulaw []byte) []byte {
	b = append(b, `{"event":"media","sequenceNumber":"`...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, `","streamSid":"`...)
	b = append(b, streamSid...)
	b = append(b, `","media":{"track":"`+mediaTrack+`","chunk":"`...)
	b = strconv.AppendUint(b, chunk, 10)
	b = append(b, `","timestamp":"`...)
	b = strconv.AppendUint(b, timestamp, 10)
	b = append(b, `","payload":"`...)
	b = base64.StdEncoding.AppendEncode(b, mulaw)
	return append(b, `"}}`...)
}

// The other messages are rare and carry strings from elsewhere (mark
// names from the agent, parameters from the configuration), so
// encoding/json writes them, escaping included.

type connectedMessage struct {
	Event    string `json:"event"`
	Protocol string `json:"protocol"`
	Version  string `json:"version"`
}

type startMessage struct {
	Event          string    `json:"event"`
	SequenceNumber string    `json:"sequenceNumber"`
	StreamSid      string    `json:"streamSid"`
	Start          startInfo `json:"start"`
}

type startInfo struct {
	StreamSid        string            `json:"streamSid"`
	AccountSid       string            `json:"accountSid"`
	CallSid          string            `json:"callSid"`
	Tracks           []string          `json:"tracks"`
	CustomParameters map[string]string `json:"customParameters"`
	MediaFormat      mediaFormat       `json:"mediaFormat"`
}

type mediaFormat struct {
	Encoding   string `json:"encoding"`
	SampleRate int    `json:"sampleRate"`
	Channels   int    `json:"channels"`
}

type dtmfMessage struct {
	Event          string   `json:"event"`
	StreamSid      string   `json:"streamSid"`
	SequenceNumber string   `json:"sequenceNumber"`
	DTMF           dtmfInfo `json:"dtmf"`
}

type dtmfInfo struct {
	Track string `json:"track"`
	Digit string `json:"digit"`
}

type markMessage struct {
	Event          string   `json:"event"`
	SequenceNumber string   `json:"sequenceNumber"`
	StreamSid      string   `json:"streamSid"`
	Mark           markInfo `json:"mark"`
}

type markInfo struct {
	Name string `json:"name"`
}

type stopMessage struct {
	Event          string   `json:"event"`
	SequenceNumber string   `json:"sequenceNumber"`
	StreamSid      string   `json:"streamSid"`
	Stop           stopInfo `json:"stop"`
}

type stopInfo struct {
	AccountSid string `json:"accountSid"`
	CallSid    string `json:"callSid"`
}

// event returns the JSON of a message other than media.
func (f *formatter) event(it *outItem) []byte {
	seq := strconv.FormatUint(f.seq, 10)
	var v any
	switch it.kind {
	case outConnected:
		v = connectedMessage{Event: "connected", Protocol: "Call", Version: "1.0.0"}
	case outStart:
		params := f.params
		if params == nil {
			params = map[string]string{} // {} rather than null: agents index into it
		}
		v = startMessage{Event: "start", SequenceNumber: seq, StreamSid: f.streamSid, Start: startInfo{
			StreamSid:        f.streamSid,
			AccountSid:       f.accountSid,
			CallSid:          f.callSid,
			Tracks:           []string{mediaTrack},
			CustomParameters: params,
			MediaFormat:      mediaFormat{Encoding: "audio/x-mulaw", SampleRate: 8000, Channels: 1},
		}}
	case outDTMF:
		v = dtmfMessage{Event: "dtmf", StreamSid: f.streamSid, SequenceNumber: seq,
			DTMF: dtmfInfo{Track: dtmfTrack, Digit: it.text}}
	case outMark:
		v = markMessage{Event: "mark", SequenceNumber: seq, StreamSid: f.streamSid, Mark: markInfo{Name: it.text}}
	case outStop:
		v = stopMessage{Event: "stop", SequenceNumber: seq, StreamSid: f.streamSid,
			Stop: stopInfo{AccountSid: f.accountSid, CallSid: f.callSid}}
	}
	// These types always marshal: strings, a string map and numbers.
	b, _ := json.Marshal(v)
	return b
}
