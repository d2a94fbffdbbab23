package wav

import (
	"fmt"
	"io"
	"io/fs"
	"os"
)

// TelephoneRate is the sample rate Load and LoadFS return, in Hz: the
// rate of G.711 telephone audio.
const TelephoneRate = 8000

// Load reads the WAV file at path and returns its audio as mono PCM at
// TelephoneRate.
func Load(path string) ([]int16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read only: a close error loses nothing
	return load(f, path)
}

// LoadFS is Load for a file in fsys.
func LoadFS(fsys fs.FS, name string) ([]int16, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read only: a close error loses nothing
	return load(f, name)
}

func load(r io.Reader, name string) ([]int16, error) {
	pcm, rate, err := Decode(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if rate != TelephoneRate {
		pcm = Resample(pcm, rate, TelephoneRate)
	}
	return pcm, nil
}
