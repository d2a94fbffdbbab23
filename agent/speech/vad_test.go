package speech

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
)

// Synthetic audio at 8 kHz.

func silence(d time.Duration) []int16 { return make([]int16, samples(d)) }

// noise is white noise at level dBFS (power), seeded so runs repeat.
func noise(d time.Duration, level float64, seed uint64) []int16 {
	r := rand.New(rand.NewPCG(seed, 1))
	sigma := 32768 * math.Pow(10, level/20)
	out := make([]int16, samples(d))
	for i := range out {
		out[i] = clamp16(r.NormFloat64() * sigma)
	}
	return out
}

// tone is a sine at freq Hz and level dBFS (power).
func tone(d time.Duration, freq, level float64) []int16 {
	amp := 32768 * math.Pow(10, level/20) * math.Sqrt2
	out := make([]int16, samples(d))
	for i := range out {
		out[i] = clamp16(amp * math.Sin(2*math.Pi*freq*float64(i)/agent.SampleRate))
	}
	return out
}

// syllables is a tone switched on and off like speech: on 150 ms, off
// 100 ms, for d.
func syllables(d time.Duration, level float64) []int16 {
	var out []int16
	for len(out) < samples(d) {
		out = append(out, tone(150*time.Millisecond, 300, level)...)
		out = append(out, silence(100*time.Millisecond)...)
	}
	return out[:samples(d)]
}

// mix adds b into a from the start (a is modified and returned).
func mix(a, b []int16) []int16 {
	for i := range min(len(a), len(b)) {
		a[i] = clamp16(float64(a[i]) + float64(b[i]))
	}
	return a
}

func clamp16(v float64) int16 {
	return int16(max(-32768, min(32767, math.Round(v))))
}

func concat(parts ...[]int16) []int16 { return slices.Concat(parts...) }

// vadEvent is an event and when it happened: the end of the frame that
// caused it.
type vadEvent struct {
	ev VADEvent
	at time.Duration
}

func (e vadEvent) String() string { return fmt.Sprintf("%v@%v", e.ev, e.at) }

// runVAD feeds pcm in 20 ms frames and returns the events.
func runVAD(v *VAD, pcm []int16) []vadEvent {
	var evs []vadEvent
	for i := 0; i < len(pcm); i += agent.FrameSamples {
		end := min(i+agent.FrameSamples, len(pcm))
		if ev := v.Frame(pcm[i:end]); ev != VADNone {
			evs = append(evs, vadEvent{ev, time.Duration(end) * time.Second / agent.SampleRate})
		}
	}
	return evs
}

const ms = time.Millisecond

func TestVADSynthetic(t *testing.T) {
	burst := tone(400*ms, 440, -15)
	for _, tt := range []struct {
		name string
		pcm  []int16
		cfg  VADConfig
		want []vadEvent // times are checked within 60 ms
	}{
		{name: "digital silence", pcm: silence(3 * time.Second)},
		{name: "steady noise", pcm: noise(5*time.Second, -35, 1)},
		{name: "loud steady noise", pcm: noise(5*time.Second, -20, 2)},
		{
			name: "tone bursts",
			pcm:  concat(silence(500*ms), burst, silence(time.Second), burst, silence(time.Second)),
			want: []vadEvent{{VADStart, 560 * ms}, {VADEnd, 1700 * ms}, {VADStart, 1960 * ms}, {VADEnd, 3100 * ms}},
		},
		{
			name: "tone bursts in noise",
			pcm: mix(concat(silence(500*ms), burst, silence(time.Second), burst, silence(time.Second)),
				noise(2900*ms, -40, 3)),
			want: []vadEvent{{VADStart, 560 * ms}, {VADEnd, 1700 * ms}, {VADStart, 1960 * ms}, {VADEnd, 3100 * ms}},
		},
		{
			name: "short end silence",
			pcm:  concat(silence(500*ms), burst, silence(time.Second)),
			cfg:  VADConfig{EndSilence: 300 * ms},
			want: []vadEvent{{VADStart, 560 * ms}, {VADEnd, 1200 * ms}},
		},
		{
			name: "a click is not speech",
			pcm:  concat(silence(500*ms), tone(40*ms, 1000, -6), silence(time.Second)),
		},
		{
			name: "pauses shorter than end silence",
			pcm:  concat(silence(500*ms), syllables(2*time.Second, -18), silence(time.Second)),
			want: []vadEvent{{VADStart, 560 * ms}, {VADEnd, 2500*ms + DefaultEndSilence - 100*ms}},
		},
		{
			name: "too quiet to be voice",
			pcm:  concat(silence(500*ms), tone(time.Second, 440, -60), silence(time.Second)),
		},
		{
			name: "cut at max utterance",
			pcm:  concat(silence(500*ms), syllables(7*time.Second, -18), silence(time.Second)),
			cfg:  VADConfig{MaxUtterance: 3 * time.Second},
			want: []vadEvent{
				{VADStart, 560 * ms}, {VADCut, 3500 * ms},
				{VADStart, 3560 * ms}, {VADCut, 6500 * ms},
				{VADStart, 6560 * ms}, {VADEnd, 7500*ms + DefaultEndSilence - 100*ms},
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := runVAD(NewVAD(tt.cfg), tt.pcm)
			if !eventsMatch(got, tt.want, 60*ms) {
				t.Errorf("events %v, want %v", got, tt.want)
			}
		})
	}
}

// eventsMatch compares kinds exactly and times within slack. The end of
// the syllables' last tone is not on the 250 ms grid, hence the slack.
func eventsMatch(got, want []vadEvent, slack time.Duration) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].ev != want[i].ev || (got[i].at-want[i].at).Abs() > slack {
			return false
		}
	}
	return true
}

// Noise that starts mid-call counts as voice until the floor climbs over
// it; the utterance it makes is bounded and the floor ends up on it.
func TestVADAdaptsToNewNoise(t *testing.T) {
	v := NewVAD(VADConfig{})
	pcm := concat(silence(time.Second), noise(20*time.Second, -30, 4))
	evs := runVAD(v, pcm)
	if len(evs) == 0 || evs[0].ev != VADStart {
		t.Fatalf("events %v: want the noise's onset taken for speech", evs)
	}
	if v.InSpeech() {
		t.Errorf("still in speech after 20 s of steady noise (events %v)", evs)
	}
	if f := v.NoiseFloor(); math.Abs(f-(-30)) > 3 {
		t.Errorf("noise floor %.1f dBFS, want about -30", f)
	}
	// And speech over that noise is found.
	evs = runVAD(v, concat(mix(syllables(time.Second, -10), noise(time.Second, -30, 5)), noise(time.Second, -30, 6)))
	if !slices.ContainsFunc(evs, func(e vadEvent) bool { return e.ev == VADStart }) {
		t.Errorf("speech 20 dB over the noise not found: %v", evs)
	}
}

func TestLevel(t *testing.T) {
	for _, tt := range []struct {
		pcm  []int16
		want float64
	}{
		{nil, -100},
		{silence(20 * ms), -100},
		{tone(time.Second, 1000, -20), -20},
		{noise(time.Second, -40, 7), -40},
	} {
		if got := Level(tt.pcm); math.Abs(got-tt.want) > 0.2 {
			t.Errorf("Level = %.2f dBFS, want %.0f", got, tt.want)
		}
	}
}

// Real speech from espeak-ng, quiet or over line noise, is one utterance
// per phrase, starting with the voice and ending EndSilence after it.
func TestVADSpeech(t *testing.T) {
	ctx := testContext(t)
	e := newEspeak(t)
	phrase, err := e.Synthesize(ctx, "Please say sales or support.")
	if err != nil {
		t.Fatal(err)
	}
	other, err := e.Synthesize(ctx, "Technical support, please.")
	if err != nil {
		t.Fatal(err)
	}
	on, off := voiceSpan(phrase)
	dur := func(n int) time.Duration { return time.Duration(n) * time.Second / agent.SampleRate }
	lead := time.Second
	for _, tt := range []struct {
		name  string
		noise float64 // dBFS, 0 for none
		slack time.Duration
	}{
		{"clean", 0, 100 * ms},
		{"line noise", -45, 150 * ms},
		// The quiet ends of words drown in noise this loud (the
		// reference span counts them), so the ends come early.
		{"noisy line", -35, 250 * ms},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pcm := concat(silence(lead), phrase, silence(1500*ms), other, silence(2*time.Second))
			if tt.noise != 0 {
				mix(pcm, noise(dur(len(pcm)), tt.noise, 8))
			}
			got := runVAD(NewVAD(VADConfig{}), pcm)
			second := lead + dur(len(phrase)) + 1500*ms
			on2, off2 := voiceSpan(other)
			want := []vadEvent{
				{VADStart, lead + dur(on) + DefaultMinSpeech},
				{VADEnd, lead + dur(off) + DefaultEndSilence},
				{VADStart, second + dur(on2) + DefaultMinSpeech},
				{VADEnd, second + dur(off2) + DefaultEndSilence},
			}
			if !eventsMatch(got, want, tt.slack) {
				t.Errorf("events %v, want %v (within %v)", got, want, tt.slack)
			}
		})
	}
}

// voiceSpan is where pcm is louder than -40 dBFS, in samples, by 20 ms
// frames: the reference the VAD is measured against.
func voiceSpan(pcm []int16) (on, off int) {
	on = -1
	for i := 0; i+agent.FrameSamples <= len(pcm); i += agent.FrameSamples {
		if Level(pcm[i:i+agent.FrameSamples]) > -40 {
			if on < 0 {
				on = i
			}
			off = i + agent.FrameSamples
		}
	}
	return max(on, 0), off
}

func TestVADEventString(t *testing.T) {
	var names []string
	for _, e := range []VADEvent{VADNone, VADStart, VADEnd, VADCut, 9} {
		names = append(names, e.String())
	}
	if got := strings.Join(names, ","); got != "none,start,end,cut,VADEvent(?)" {
		t.Errorf("names %s", got)
	}
}
