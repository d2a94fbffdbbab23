package sip_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/speech"
	"github.com/sipagent/sipagent/agent/voiceflow"
	"github.com/sipagent/sipagent/agent/voiceflow/voiceflowtest"
)

// Speech in on a real call: baresip says "sales" or "support" (espeak-ng
// into its microphone, PCMU over RTP), the offline recognizer
// (pocketsphinx, with the choice's buttons as hints) hears it, and the
// Voiceflow runtime gets it as text and takes the matching path.
func TestVoiceflowHearsTheCaller(t *testing.T) {
	es, err := speech.NewEspeak()
	if err != nil {
		t.Fatalf("espeak-ng: %v (run `make deps`)", err)
	}
	rec, err := speech.NewPocketsphinx()
	if err != nil {
		t.Fatalf("pocketsphinx: %v (run `make deps`)", err)
	}
	for _, word := range []string{"sales", "support"} {
		t.Run(word, func(t *testing.T) {
			ctx := baresipContext(t)
			said, err := es.Synthesize(ctx, word)
			if err != nil {
				t.Fatal(err)
			}
			rt := voiceflowtest.New(t, "VF.DM.key", "production", func(a voiceflowtest.Action) (int, string) {
				if a.Type == "launch" {
					return 200, voiceflowtest.Traces(voiceflowtest.Speak("Sales or support?"),
						`{"type":"choice","payload":{"buttons":[{"name":"sales"},{"name":"support"}]}}`)
				}
				return 200, voiceflowtest.Traces(voiceflowtest.Speak("Connecting."), voiceflowtest.End)
			})
			vf, err := voiceflow.New(voiceflow.Config{Runtime: rt.URL, APIKey: "VF.DM.key", Synthesizer: es,
				Recognizer: rec, NoInput: 10 * time.Second, Logger: testLogger(t)})
			if err != nil {
				t.Fatal(err)
			}
			srv := startServer(t, map[string]agent.Agent{"vf": vf})
			// The word comes after the prompt, then silence until
			// sipagent, having got its answer, hangs up.
			mic := append(make([]int16, samples(2500*time.Millisecond)), said...)
			mic = append(mic, make([]int16, samples(15*time.Second))...)
			ph := startBaresip(t, ctx, phoneConfig{Dial: dialURI(srv, "vf"), Codecs: "PCMU", Mic: mic})
			ph.mustWait(t, ctx, "terminated")
			waitIdle(t, srv)
			ph.quit(t, ctx)
			got := rt.Types()
			t.Logf("the runtime got %v", got)
			if len(got) != 2 || got[0] != "launch" || !strings.EqualFold(got[1], "text:"+word) {
				t.Errorf("the runtime got %v, want launch then text:%s", got, word)
			}
		})
	}
}
