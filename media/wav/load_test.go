package wav

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"
)

func encoded(t *testing.T, pcm []int16, rate int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, pcm, rate); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestLoadFS(t *testing.T) {
	fsys := fstest.MapFS{
		"8k.wav":  {Data: encoded(t, []int16{1, 2, 3}, 8000)},
		"16k.wav": {Data: encoded(t, make([]int16, 1600), 16000)},
		"bad.wav": {Data: []byte("hello")},
	}
	got, err := LoadFS(fsys, "8k.wav")
	if err != nil || !slices.Equal(got, []int16{1, 2, 3}) {
		t.Errorf("LoadFS(8k.wav) = %v, %v; want [1 2 3]", got, err)
	}
	got, err = LoadFS(fsys, "16k.wav")
	if err != nil || len(got) != 800 {
		t.Errorf("LoadFS(16k.wav) = %d samples, %v; want 800 samples", len(got), err)
	}
	_, err = LoadFS(fsys, "bad.wav")
	if !errors.Is(err, ErrNotWAV) {
		t.Errorf("LoadFS(bad.wav) error = %v, want ErrNotWAV", err)
	}
	_, err = LoadFS(fsys, "missing.wav")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadFS(missing.wav) error = %v, want fs.ErrNotExist", err)
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.wav")
	if err := os.WriteFile(path, encoded(t, make([]int16, 4410), 44100), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil || len(got) != 800 {
		t.Errorf("Load = %d samples, %v; want 800 samples", len(got), err)
	}
	if _, err := Load(path + ".missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) error = %v, want fs.ErrNotExist", err)
	}
}
