package wav

import (
	"math"
	"slices"
)

// Resampling filter parameters. The kernel is a Blackman-windowed sinc
// low-pass whose cutoff sits just below the lower of the two Nyquist
// frequencies, so downsampling (espeak-ng's 22050 Hz to 8 kHz) does not
// fold high frequencies back into the band as aliases.
const (
	zeroCrossings = 16   // sinc zero crossings on each side of the centre
	rolloff       = 0.94 // cutoff as a fraction of the lower Nyquist frequency
	// maxTable bounds the precomputed kernel table, in coefficients. Rate
	// pairs with an awkward ratio compute coefficients as they go instead.
	maxTable = 1 << 18
)

// Resample converts pcm from one sample rate to another and returns a new
// slice; pcm is not modified. Both rates must be positive.
func Resample(pcm []int16, from, to int) []int16 {
	if from <= 0 || to <= 0 {
		panic("wav: Resample with a non-positive rate")
	}
	if from == to || len(pcm) == 0 {
		return slices.Clone(pcm)
	}
	k := newKernel(from, to)
	n := (int64(len(pcm))*int64(k.up) + int64(k.down) - 1) / int64(k.down)
	out := make([]int16, n)
	w := make([]float64, k.taps)
	for i := range out {
		// Output sample i sits at input position i*down/up: whole part
		// base, fractional part phase/up.
		pos := int64(i) * int64(k.down)
		base := int(pos / int64(k.up))
		phase := int(pos % int64(k.up))
		weights := k.weights(phase, w)
		first := base - k.half + 1
		var acc float64
		for j, c := range weights {
			if x := first + j; x >= 0 && x < len(pcm) {
				acc += c * float64(pcm[x])
			}
		}
		out[i] = clamp16(acc)
	}
	return out
}

// kernel holds the low-pass filter for one rate pair.
type kernel struct {
	up, down int       // rate ratio in lowest terms: to/from = up/down
	fc       float64   // cutoff in cycles per input sample
	half     int       // kernel half-width in input samples
	taps     int       // coefficients per phase, 2*half
	table    []float64 // up phases of taps coefficients, or nil
}

func newKernel(from, to int) *kernel {
	g := gcd(from, to)
	k := &kernel{up: to / g, down: from / g}
	k.fc = 0.5 * rolloff * min(1, float64(to)/float64(from))
	// sinc(2*fc*x) crosses zero every 1/(2*fc) input samples.
	k.half = int(math.Ceil(zeroCrossings / (2 * k.fc)))
	k.taps = 2 * k.half
	if k.up*k.taps <= maxTable {
		k.table = make([]float64, k.up*k.taps)
		for p := range k.up {
			k.compute(p, k.table[p*k.taps:(p+1)*k.taps])
		}
	}
	return k
}

// weights returns the coefficients for the given phase, from the table or
// computed into scratch.
func (k *kernel) weights(phase int, scratch []float64) []float64 {
	if k.table != nil {
		return k.table[phase*k.taps : (phase+1)*k.taps]
	}
	k.compute(phase, scratch)
	return scratch
}

// compute fills w with the coefficients for an output sample at fractional
// input position phase/up, for input samples base-half+1 .. base+half. The
// coefficients are normalised to sum to one so DC passes at unit gain.
func (k *kernel) compute(phase int, w []float64) {
	frac := float64(phase) / float64(k.up)
	var sum float64
	for j := range w {
		d := frac + float64(k.half-1-j) // distance from the output position
		c := 2 * k.fc * sinc(2*k.fc*d) * blackman(d/float64(k.half))
		w[j] = c
		sum += c
	}
	for j := range w {
		w[j] /= sum
	}
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// blackman is the Blackman window over u in [-1, 1].
func blackman(u float64) float64 {
	if u < -1 || u > 1 {
		return 0
	}
	return 0.42 + 0.5*math.Cos(math.Pi*u) + 0.08*math.Cos(2*math.Pi*u)
}

func clamp16(v float64) int16 {
	v = math.Round(v)
	switch {
	case v > math.MaxInt16:
		return math.MaxInt16
	case v < math.MinInt16:
		return math.MinInt16
	}
	return int16(v)
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
