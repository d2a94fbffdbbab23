package twiml

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/agenttest"
	"github.com/sipagent/sipagent/agent/speech"
)

// The real thing: espeak-ng says a menu choice into a call, the offline
// pocketsphinx recognizer hears it through <Gather input="speech"
// hints="sales, support">, and the action gets it as SpeechResult.
// pocketsphinx, pocketsphinx-en-us and espeak-ng are test dependencies
// (.ci/deps), so their absence fails the test.
func TestGatherSpeechPocketsphinx(t *testing.T) {
	ctx := testContext(t)
	rec, err := speech.NewPocketsphinx()
	if err != nil {
		t.Fatalf("%v (Debian packages pocketsphinx and pocketsphinx-en-us; run .ci/deps)", err)
	}
	voice, err := speech.NewEspeak()
	if err != nil {
		t.Fatalf("%v (Debian package espeak-ng; run .ci/deps)", err)
	}
	a := mustNew(t, Config{URL: "http://127.0.0.1:1/voice", Synthesizer: fakeSynth{}, Recognizer: rec})
	g := gatherOf(t, `<Response><Gather input="speech" speechTimeout="auto" hints="sales, support"><Say>Sales or support?</Say></Gather></Response>`)
	for _, word := range []string{"sales", "support"} {
		said, err := voice.Synthesize(ctx, word)
		if err != nil {
			t.Fatal(err)
		}
		call := agenttest.New()
		tctx, stop := context.WithCancel(ctx)
		fed := make(chan error, 1)
		go func() { fed <- callerSays(tctx, call, said) }()
		params, err := newSession(a, call).gatherInput(ctx, g)
		stop()
		if err := <-fed; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("feeding audio: %v", err)
		}
		if err != nil {
			t.Fatalf("%s: %v", word, err)
		}
		if got := params.Get("SpeechResult"); got != word {
			t.Errorf("espeak-ng said %q; the action got SpeechResult %q (%v)", word, got, params)
		}
		if !params.Has("Confidence") {
			t.Errorf("%s: no Confidence in %v", word, params)
		}
	}
}

// callerSays is the caller: a moment's silence, pcm, then silence in real time
// until ctx ends.
func callerSays(ctx context.Context, call *agenttest.Call, pcm []int16) error {
	pcm = append(make([]int16, agent.SampleRate/4), pcm...)
	for len(pcm) > 0 {
		n := min(len(pcm), agent.FrameSamples)
		if err := call.SendAudio(ctx, pcm[:n]); err != nil {
			return err
		}
		pcm = pcm[n:]
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	quiet := make([]int16, agent.FrameSamples)
	for {
		if err := call.SendAudio(ctx, quiet); err != nil {
			return err
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
