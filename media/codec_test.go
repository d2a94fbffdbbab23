package media

import (
	"math"
	"testing"

	"github.com/zaf/g711"
)

// g711Tolerance bounds the G.711 quantisation error at sample x: about
// 4% of the amplitude (half a step of the logarithmic segment), with a
// floor for the smallest steps.
func g711Tolerance(x int16) int {
	return int(math.Abs(float64(x)))/16 + 8
}

func TestCodecRoundTripEverySample(t *testing.T) {
	pcm := make([]int16, 1<<16)
	for i := range pcm {
		pcm[i] = int16(i - 1<<15)
	}
	enc := make([]byte, len(pcm))
	dec := make([]int16, len(pcm))
	for _, c := range Codecs {
		if n := c.Encode(enc, pcm); n != len(pcm) {
			t.Fatalf("%s: Encode = %d", c, n)
		}
		if n := c.Decode(dec, enc); n != len(pcm) {
			t.Fatalf("%s: Decode = %d", c, n)
		}
		for i, x := range pcm {
			if d := abs(int(dec[i]) - int(x)); d > g711Tolerance(x) {
				t.Fatalf("%s: %d decodes to %d, off by %d", c, x, dec[i], d)
			}
		}
	}
}

func TestCodecRoundTripSine(t *testing.T) {
	pcm := sine(FrameSamples, 0, 440, 12000)
	enc := make([]byte, FrameSamples)
	dec := make([]int16, FrameSamples)
	for _, c := range Codecs {
		c.Encode(enc, pcm)
		c.Decode(dec, enc)
		for i := range pcm {
			if d := abs(int(dec[i]) - int(pcm[i])); d > g711Tolerance(pcm[i]) {
				t.Fatalf("%s: sample %d: %d -> %d", c, i, pcm[i], dec[i])
			}
		}
	}
}

func TestCodecShortBuffers(t *testing.T) {
	for _, c := range Codecs {
		if n := c.Encode(make([]byte, 3), make([]int16, 5)); n != 3 {
			t.Errorf("%s: Encode into 3 = %d", c, n)
		}
		if n := c.Decode(make([]int16, 5), make([]byte, 3)); n != 3 {
			t.Errorf("%s: Decode of 3 = %d", c, n)
		}
	}
}

func TestSilenceByte(t *testing.T) {
	for _, c := range Codecs {
		var d [1]int16
		c.Decode(d[:], []byte{c.SilenceByte()})
		if abs(int(d[0])) > 8 {
			t.Errorf("%s: silence decodes to %d", c, d[0])
		}
		var e [1]byte
		c.Encode(e[:], []int16{0})
		if e[0] != c.SilenceByte() {
			t.Errorf("%s: 0 encodes to %#x, SilenceByte is %#x", c, e[0], c.SilenceByte())
		}
	}
}

func TestCodecByName(t *testing.T) {
	for name, want := range map[string]Codec{"PCMU": PCMU, "pcma": PCMA, "Pcmu": PCMU} {
		if c, ok := CodecByName(name); !ok || c != want || !c.Valid() || c.String() != want.Name {
			t.Errorf("CodecByName(%q) = %v, %v", name, c, ok)
		}
	}
	if c, ok := CodecByName("G729"); ok || c.Valid() {
		t.Errorf("CodecByName(G729) = %v, %v", c, ok)
	}
}

func TestCodecAllocatesNothing(t *testing.T) {
	pcm := make([]int16, FrameSamples)
	enc := make([]byte, FrameSamples)
	for _, c := range Codecs {
		if a := testing.AllocsPerRun(100, func() { c.Encode(enc, pcm); c.Decode(pcm, enc) }); a != 0 {
			t.Errorf("%s: %v allocs", c, a)
		}
	}
}

// sine returns n samples of a tone of freq Hz and amplitude amp, starting
// at sample offset start.
func sine(n, start int, freq, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(start+i)/SampleRate))
	}
	return out
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestEncodeTablesMatchG711 checks the lookup tables against the g711
// package's encoders for every sample value.
func TestEncodeTablesMatchG711(t *testing.T) {
	var got [1]byte
	for x := math.MinInt16; x <= math.MaxInt16; x++ {
		s := int16(x)
		if PCMU.Encode(got[:], []int16{s}); got[0] != g711.EncodeUlawFrame(s) {
			t.Fatalf("PCMU %d: %#x, g711 %#x", s, got[0], g711.EncodeUlawFrame(s))
		}
		if PCMA.Encode(got[:], []int16{s}); got[0] != g711.EncodeAlawFrame(s) {
			t.Fatalf("PCMA %d: %#x, g711 %#x", s, got[0], g711.EncodeAlawFrame(s))
		}
	}
}
