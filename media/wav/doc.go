// Package wav reads and writes the small WAV (RIFF) files sipagent uses for
// prompts and recordings, and resamples PCM to the 8 kHz the phone network
// speaks.
//
// The reader is deliberately strict and small: it accepts 16-bit PCM (mono
// or stereo, which is mixed down to mono) and 8-bit G.711 mu-law or A-law,
// at any sample rate from MinRate to MaxRate, skips chunks it does not know,
// and refuses everything else with an error that says what it found. It
// never trusts a size field for an allocation, and it refuses files longer
// than MaxFrames sample frames, so a hostile or broken file cannot exhaust
// memory.
//
// It is not a general audio library: there is no float, 24-bit or
// compressed format support, and the writer only writes 16-bit mono PCM.
package wav
