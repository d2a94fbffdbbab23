package wav

import (
	"math"
	"slices"
	"testing"
)

// tone returns n samples of a sine at freq Hz sampled at rate.
func tone(freq float64, rate, n int, amp float64) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return s
}

// rms returns the root mean square of s, ignoring edge samples where the
// filter sees zeros outside the signal.
func rms(s []int16) float64 {
	edge := len(s) / 10
	s = s[edge : len(s)-edge]
	var sum float64
	for _, v := range s {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(s)))
}

func TestResampleLength(t *testing.T) {
	tests := []struct{ n, from, to, want int }{
		{22050, 22050, 8000, 8000},
		{1, 22050, 8000, 1},
		{3, 22050, 8000, 2},
		{8000, 8000, 16000, 16000},
		{44101, 44101, 8000, 8000},
		{480, 48000, 8000, 80},
	}
	for _, tt := range tests {
		got := Resample(make([]int16, tt.n), tt.from, tt.to)
		if len(got) != tt.want {
			t.Errorf("Resample(%d samples, %d, %d) gave %d samples, want %d", tt.n, tt.from, tt.to, len(got), tt.want)
		}
	}
}

func TestResampleSameRateCopies(t *testing.T) {
	in := []int16{1, 2, 3}
	out := Resample(in, 8000, 8000)
	out[0] = 9
	if in[0] != 1 {
		t.Error("Resample at the same rate returned its input, not a copy")
	}
}

func TestResampleDC(t *testing.T) {
	in := make([]int16, 22050)
	for i := range in {
		in[i] = 1000
	}
	out := Resample(in, 22050, 8000)
	for i, v := range out[100 : len(out)-100] {
		if v < 998 || v > 1002 {
			t.Fatalf("sample %d = %d, want 1000 (DC must pass at unit gain)", i+100, v)
		}
	}
}

func TestResampleFrequencies(t *testing.T) {
	const amp = 10000
	tests := []struct {
		name     string
		freq     float64
		from, to int
		min, max float64 // output RMS as a fraction of input RMS
	}{
		{"1 kHz passes down", 1000, 22050, 8000, 0.97, 1.03},
		{"3 kHz passes down", 3000, 22050, 8000, 0.9, 1.05},
		{"6 kHz is removed down", 6000, 22050, 8000, 0, 0.01},
		{"9 kHz is removed down", 9000, 22050, 8000, 0, 0.01},
		{"1 kHz passes up", 1000, 8000, 16000, 0.97, 1.03},
		{"1 kHz passes odd ratio", 1000, 44101, 8000, 0.97, 1.03},
		{"1 kHz passes 48k", 1000, 48000, 8000, 0.97, 1.03},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tone(tt.freq, tt.from, tt.from/2, amp)
			ratio := rms(Resample(in, tt.from, tt.to)) / rms(in)
			if ratio < tt.min || ratio > tt.max {
				t.Errorf("RMS ratio %.4f, want %.2f to %.2f", ratio, tt.min, tt.max)
			}
		})
	}
}

func TestResampleClamps(t *testing.T) {
	// A full-scale square wave overshoots through the filter (Gibbs);
	// the output must saturate, not wrap around to the other sign.
	in := make([]int16, 22050)
	for i := range in {
		in[i] = math.MaxInt16
		if (i/100)%2 == 1 {
			in[i] = math.MinInt16
		}
	}
	out := Resample(in, 22050, 8000)
	for i, v := range out {
		phase := (i * 22050 / 8000) % 200
		switch {
		case phase >= 10 && phase <= 90 && v < 30000:
			t.Fatalf("sample %d = %d in a positive half wave", i, v)
		case phase >= 110 && phase <= 190 && v > -30000:
			t.Fatalf("sample %d = %d in a negative half wave", i, v)
		}
	}
	for _, tt := range []struct {
		in   float64
		want int16
	}{{40000, math.MaxInt16}, {-40000, math.MinInt16}, {1.5, 2}, {-1.5, -2}, {0.4, 0}} {
		if got := clamp16(tt.in); got != tt.want {
			t.Errorf("clamp16(%v) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestResamplePanicsOnBadRate(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Resample with rate 0 did not panic")
		}
	}()
	Resample([]int16{1}, 0, 8000)
}

func TestResampleDoesNotModifyInput(t *testing.T) {
	in := tone(440, 22050, 1000, 5000)
	keep := slices.Clone(in)
	Resample(in, 22050, 8000)
	if !slices.Equal(in, keep) {
		t.Error("Resample modified its input")
	}
}

func BenchmarkResample22050To8000(b *testing.B) {
	in := tone(440, 22050, 22050, 10000) // one second
	b.ReportAllocs()
	for b.Loop() {
		Resample(in, 22050, 8000)
	}
}
