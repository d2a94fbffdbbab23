package wav

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

func TestEncodeRoundTrip(t *testing.T) {
	pcm := []int16{0, 1, -1, 32767, -32768, 1234}
	var buf bytes.Buffer
	if err := Encode(&buf, pcm, 16000); err != nil {
		t.Fatalf("Encode: %v", err)
	}
	if got, want := buf.Len(), 44+2*len(pcm); got != want {
		t.Errorf("encoded %d bytes, want %d", got, want)
	}
	got, rate, err := Decode(&buf)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if rate != 16000 || !slices.Equal(got, pcm) {
		t.Errorf("round trip = %v at %d Hz, want %v at 16000 Hz", got, rate, pcm)
	}
}

func TestEncodeErrors(t *testing.T) {
	if err := Encode(&bytes.Buffer{}, nil, 0); err == nil {
		t.Error("Encode at 0 Hz succeeded")
	}
	want := errors.New("disk full")
	if err := Encode(failWriter{want}, []int16{1}, 8000); !errors.Is(err, want) {
		t.Errorf("Encode to failing writer = %v, want %v", err, want)
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }
