package stream

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/media"
)

const (
	testStreamSid = "MZ18ad3ab5a668481ce02b83e7395059f0"
	testCallSid   = "CA0123456789abcdef0123456789abcdef"
)

func testFormatter() *formatter {
	return &formatter{streamSid: testStreamSid, accountSid: DefaultAccountSid, callSid: testCallSid,
		params: map[string]string{"b": "2", "a": `"1"`}}
}

// TestFormat checks every message byte for byte against the shapes in
// Twilio's documentation, numbered as they go out.
func TestFormat(t *testing.T) {
	f := testFormatter()
	media := &outItem{kind: outMedia, n: 3, ts: 40}
	media.audio[0], media.audio[1], media.audio[2] = 0xff, 0x7f, 0x00
	for i, tt := range []struct {
		it   *outItem
		want string
	}{
		{&outItem{kind: outConnected}, `{"event":"connected","protocol":"Call","version":"1.0.0"}`},
		{&outItem{kind: outStart}, `{"event":"start","sequenceNumber":"1","streamSid":"` + testStreamSid + `","start":{` +
			`"streamSid":"` + testStreamSid + `","accountSid":"` + DefaultAccountSid + `","callSid":"` + testCallSid + `",` +
			`"tracks":["inbound"],"customParameters":{"a":"\"1\"","b":"2"},` +
			`"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}`},
		{media, `{"event":"media","sequenceNumber":"2","streamSid":"` + testStreamSid + `","media":{` +
			`"track":"inbound","chunk":"1","timestamp":"40","payload":"/38A"}}`},
		{&outItem{kind: outDTMF, text: "#"}, `{"event":"dtmf","streamSid":"` + testStreamSid + `","sequenceNumber":"3",` +
			`"dtmf":{"track":"inbound_track","digit":"#"}}`},
		{media, `{"event":"media","sequenceNumber":"4","streamSid":"` + testStreamSid + `","media":{` +
			`"track":"inbound","chunk":"2","timestamp":"40","payload":"/38A"}}`},
		{&outItem{kind: outMark, text: `turn "1" <done>`}, `{"event":"mark","sequenceNumber":"5","streamSid":"` + testStreamSid + `",` +
			`"mark":{"name":"turn \"1\" \u003cdone\u003e"}}`},
		{&outItem{kind: outStop}, `{"event":"stop","sequenceNumber":"6","streamSid":"` + testStreamSid + `",` +
			`"stop":{"accountSid":"` + DefaultAccountSid + `","callSid":"` + testCallSid + `"}}`},
	} {
		if got := string(f.format(tt.it)); got != tt.want {
			t.Errorf("message %d:\n got %s\nwant %s", i, got, tt.want)
		}
	}
}

func TestFormatStartWithoutParameters(t *testing.T) {
	f := testFormatter()
	f.params = nil
	var m struct {
		Start struct {
			CustomParameters json.RawMessage `json:"customParameters"`
		} `json:"start"`
	}
	if err := json.Unmarshal(f.format(&outItem{kind: outStart}), &m); err != nil || string(m.Start.CustomParameters) != "{}" {
		t.Errorf("customParameters = %s, %v; want {}", m.Start.CustomParameters, err)
	}
}

// TestMediaMessageAllocatesNothing pins the per-frame cost: once the
// buffer has grown, building a media message allocates nothing.
func TestMediaMessageAllocatesNothing(t *testing.T) {
	f := testFormatter()
	it := &outItem{kind: outMedia, n: agent.FrameSamples, ts: 1 << 40}
	pcm := pcmOf(mulawSignal(agent.FrameSamples, 0))
	f.format(it)
	if n := testing.AllocsPerRun(100, func() {
		it.n = media.PCMU.Encode(it.audio[:], pcm)
		f.format(it)
	}); n != 0 {
		t.Errorf("%.1f allocations per media message", n)
	}
}

// BenchmarkMediaMessage measures the per-frame work of the caller's audio
// path: 160 samples to mu-law, base64 and JSON.
func BenchmarkMediaMessage(b *testing.B) {
	f := testFormatter()
	var it outItem
	it.kind = outMedia
	pcm := pcmOf(mulawSignal(agent.FrameSamples, 0))
	b.ReportAllocs()
	for b.Loop() {
		it.n = media.PCMU.Encode(it.audio[:], pcm)
		it.ts += 20
		f.format(&it)
	}
}

// BenchmarkMediaMessageJSON is the same message written by encoding/json,
// for comparison with the hand-written appendMedia.
func BenchmarkMediaMessageJSON(b *testing.B) {
	type mediaInfo struct {
		Track     string `json:"track"`
		Chunk     string `json:"chunk"`
		Timestamp string `json:"timestamp"`
		Payload   string `json:"payload"`
	}
	type mediaMessage struct {
		Event          string    `json:"event"`
		SequenceNumber string    `json:"sequenceNumber"`
		StreamSid      string    `json:"streamSid"`
		Media          mediaInfo `json:"media"`
	}
	var mulaw [agent.FrameSamples]byte
	pcm := pcmOf(mulawSignal(agent.FrameSamples, 0))
	var seq, ts uint64
	b.ReportAllocs()
	for b.Loop() {
		media.PCMU.Encode(mulaw[:], pcm)
		seq++
		ts += 20
		_, err := json.Marshal(mediaMessage{Event: "media", SequenceNumber: strconv.FormatUint(seq, 10), StreamSid: testStreamSid,
			Media: mediaInfo{Track: "inbound", Chunk: strconv.FormatUint(seq, 10), Timestamp: strconv.FormatUint(ts, 10),
				Payload: base64.StdEncoding.EncodeToString(mulaw[:])}})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeMedia measures the agent's audio path per message: a
// 20 ms media message from JSON to mu-law.
func BenchmarkDecodeMedia(b *testing.B) {
	msg := []byte(`{"event":"media","streamSid":"` + testStreamSid + `","media":{"payload":"` +
		base64.StdEncoding.EncodeToString(mulawSignal(agent.FrameSamples, 0)) + `"}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(msg); err != nil {
			b.Fatal(err)
		}
	}
}
