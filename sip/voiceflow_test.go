package sip_test

import (
	"encoding/base64"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/voiceflow"
	"github.com/sipagent/sipagent/agent/voiceflow/voiceflowtest"
	"github.com/sipagent/sipagent/media"
)

// mp3Of encodes 8 kHz pcm as MP3 with lame (a real encoder), the way
// Voiceflow's TTS audio arrives, at 16 kHz (MPEG-2): go-mp3 does not
// decode MPEG 2.5, the 8 kHz kind, and TTS services do not send it.
func mp3Of(t *testing.T, pcm []int16) []byte {
	t.Helper()
	lame, err := exec.LookPath("lame")
	if err != nil {
		t.Fatal("lame not found: run `make deps` (Debian package lame)")
	}
	dir := t.TempDir()
	raw := make([]byte, 2*len(pcm))
	for i, v := range pcm {
		binary.LittleEndian.PutUint16(raw[2*i:], uint16(v))
	}
	in, out := filepath.Join(dir, "a.raw"), filepath.Join(dir, "a.mp3")
	if err := os.WriteFile(in, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(lame, "--quiet", "-r", "-s", "8", "--resample", "16", "--bitwidth", "16", "--signed", "--little-endian", "-m", "m", "-b", "128", in, out).CombinedOutput(); err != nil {
		t.Fatalf("lame: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A Voiceflow agent on a real call: baresip calls, the agent launches the
// conversation on the Dialog Manager runtime (a stand-in speaking its
// documented API), plays the greeting Voiceflow sent as MP3 - baresip
// hears it - and carries out the `twiml` custom action the way the seed
// setup forwards calls: <Dial><Sip> to a sipp target, which answers and
// hangs up. The conversation then ends and baresip's call with it.
func TestVoiceflowForwardsWithTwiML(t *testing.T) {
	ctx := baresipContext(t)
	target := sippTarget(t, "uas_answer_bye.xml")
	greeting := testSignal()[:samples(time.Second)]
	src := "data:audio/mpeg;base64," + base64.StdEncoding.EncodeToString(mp3Of(t, greeting))
	dial := `<Response><Dial><Sip>` + target + `</Sip></Dial></Response>`
	rt := voiceflowtest.New(t, "VF.DM.key", "production", func(a voiceflowtest.Action) (int, string) {
		if a.Type == "launch" {
			return 200, voiceflowtest.Traces(voiceflowtest.SpeakAudio(src, "Connecting you to sales."),
				voiceflowtest.CustomAction("twiml", dial, "failed"))
		}
		return 200, voiceflowtest.Traces(voiceflowtest.End)
	})
	vf, err := voiceflow.New(voiceflow.Config{Runtime: rt.URL, APIKey: "VF.DM.key", Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, map[string]agent.Agent{"vf": vf}, withTransfer(t, "sip:sales@127.0.0.1"))
	ph := startBaresip(t, ctx, phoneConfig{Dial: dialURI(srv, "vf"), Codecs: "PCMU", Mic: make([]int16, samples(20*time.Second))})
	ph.mustWait(t, ctx, "terminated") // sipagent hung up after the forwarded call ended
	waitIdle(t, srv)
	ph.quit(t, ctx)

	if got := rt.Types(); !slices.Equal(got, []string{"launch"}) {
		t.Errorf("the runtime got %v, want only the launch (a completed forward ends the call)", got)
	}
	piece := g711(media.PCMU, greeting)[samples(200*time.Millisecond):samples(700*time.Millisecond)]
	corr, lag := bestCorrelation(ph.heard(t), piece)
	t.Logf("baresip heard the MP3 greeting: correlation %.3f at %.3f s", corr, float64(lag)/media.SampleRate)
	if corr < 0.7 { // MP3, resampling and G.711 each take their share
		t.Errorf("baresip did not hear the greeting Voiceflow sent: correlation %.3f", corr)
	}
}
