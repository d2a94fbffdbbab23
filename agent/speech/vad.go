package speech

import (
	"math"
	"time"

	"github.com/sipagent/sipagent/agent"
)

// VAD defaults.
const (
	// DefaultMaxUtterance cuts an utterance that goes on this long: a
	// caller does not answer a menu in a speech, and noise an energy
	// detector takes for voice must not hold a recognizer for ever.
	DefaultMaxUtterance = 15 * time.Second
	// DefaultMinSpeech is how long voice must last before it counts as
	// speech, so that a click or a cough does not stop a prompt.
	DefaultMinSpeech = 60 * time.Millisecond
	// DefaultVADThreshold is how far above the noise floor, in dB, a
	// frame must be to count as voice.
	DefaultVADThreshold = 12.0
	// DefaultVADMinLevel is the level, in dBFS, below which nothing is
	// voice however quiet the line: telephone speech sits around -30
	// to -15 dBFS.
	DefaultVADMinLevel = -50.0
)

// Noise floor tracking, per 20 ms frame, in dB.
const (
	vadHysteresis = 4.0   // voice goes on down to threshold minus this
	floorMin      = -80.0 // the floor never drops below this
	silenceLevel  = -100.0
	floorFall     = 0.3   // towards a quieter frame: within about 60 ms
	floorRise     = 0.05  // towards a louder frame that is not voice: about 0.4 s
	floorCreep    = 0.003 // towards voice: about 7 s, so steady noise stops counting
)

// VADConfig tunes a VAD. The zero value is usable: every zero field
// takes its default.
type VADConfig struct {
	// EndSilence is the silence after speech that ends an utterance; 0
	// means DefaultEndSilence.
	EndSilence time.Duration
	// MaxUtterance cuts an utterance that lasts this long; 0 means
	// DefaultMaxUtterance.
	MaxUtterance time.Duration
	// MinSpeech is how long voice must go on before speech starts; 0
	// means DefaultMinSpeech.
	MinSpeech time.Duration
	// Threshold is how far above the noise floor, in dB, voice is; 0
	// means DefaultVADThreshold.
	Threshold float64
	// MinLevel is the quietest voice, in dBFS; 0 means
	// DefaultVADMinLevel.
	MinLevel float64
}

// VADEvent is what a frame changed.
type VADEvent uint8

// VAD events.
const (
	// VADNone: no change.
	VADNone VADEvent = iota
	// VADStart: speech started (MinSpeech of voice ago).
	VADStart
	// VADEnd: the utterance ended after EndSilence without voice.
	VADEnd
	// VADCut: the utterance reached MaxUtterance and was ended there;
	// voice that goes on starts a new one.
	VADCut
)

func (e VADEvent) String() string {
	switch e {
	case VADNone:
		return "none"
	case VADStart:
		return "start"
	case VADEnd:
		return "end"
	case VADCut:
		return "cut"
	}
	return "VADEvent(?)"
}

// VAD is an energy-based voice-activity detector for 8 kHz PCM, fed
// frame by frame (20 ms frames, as agent.Call.ReadAudio gives them, though
// any length works). A frame is voice when its level stands Threshold dB
// above a noise floor that follows the line: down at once when the line
// goes quiet, up slowly while it is louder, so steady noise (a fan, a
// hiss, a line hum) stops counting as voice within seconds, while speech,
// which dips between words, keeps the floor low. Speech starts after
// MinSpeech of voice and its utterance ends after EndSilence without
// voice, or at MaxUtterance.
//
// It is no match for a trained model: noise that starts suddenly is voice
// until the floor catches up, which is what MaxUtterance bounds. A VAD is
// not safe for concurrent use.
type VAD struct {
	cfg      VADConfig
	floor    float64
	primed   bool
	inSpeech bool
	voiced   int // samples of voice in a row (before a start)
	silent   int // samples without voice in a row (in speech)
	length   int // samples since speech started
	// durations in samples
	endSilence, maxUtterance, minSpeech int
}

// NewVAD returns a detector with cfg's settings.
func NewVAD(cfg VADConfig) *VAD {
	if cfg.EndSilence <= 0 {
		cfg.EndSilence = DefaultEndSilence
	}
	if cfg.MaxUtterance <= 0 {
		cfg.MaxUtterance = DefaultMaxUtterance
	}
	if cfg.MinSpeech <= 0 {
		cfg.MinSpeech = DefaultMinSpeech
	}
	if cfg.Threshold <= 0 {
		cfg.Threshold = DefaultVADThreshold
	}
	if cfg.MinLevel == 0 {
		cfg.MinLevel = DefaultVADMinLevel
	}
	return &VAD{
		cfg:          cfg,
		endSilence:   samples(cfg.EndSilence),
		maxUtterance: samples(cfg.MaxUtterance),
		minSpeech:    samples(cfg.MinSpeech),
	}
}

func samples(d time.Duration) int {
	return int(d * agent.SampleRate / time.Second)
}

// Config returns the detector's settings, defaults filled in.
func (v *VAD) Config() VADConfig { return v.cfg }

// InSpeech says whether an utterance is going on.
func (v *VAD) InSpeech() bool { return v.inSpeech }

// NoiseFloor is the line's noise level as the detector sees it, in dBFS.
func (v *VAD) NoiseFloor() float64 { return v.floor }

// Frame takes the next frame of audio and says what it changed.
func (v *VAD) Frame(pcm []int16) VADEvent {
	if len(pcm) == 0 {
		return VADNone
	}
	lvl := Level(pcm)
	if !v.primed {
		v.floor, v.primed = max(lvl, floorMin), true
	}
	threshold := v.cfg.Threshold
	if v.inSpeech {
		threshold -= vadHysteresis
	}
	voice := lvl > v.floor+threshold && lvl > v.cfg.MinLevel
	switch {
	case lvl < v.floor:
		v.floor += floorFall * (lvl - v.floor)
	case !voice:
		v.floor += floorRise * (lvl - v.floor)
	default:
		v.floor += floorCreep * (lvl - v.floor)
	}
	v.floor = max(v.floor, floorMin)

	n := len(pcm)
	if !v.inSpeech {
		if !voice {
			v.voiced = 0
			return VADNone
		}
		v.voiced += n
		if v.voiced < v.minSpeech {
			return VADNone
		}
		v.inSpeech, v.voiced, v.silent, v.length = true, 0, 0, v.voiced
		return VADStart
	}
	v.length += n
	if voice {
		v.silent = 0
	} else {
		v.silent += n
	}
	switch {
	case v.silent >= v.endSilence:
		v.inSpeech = false
		return VADEnd
	case v.length >= v.maxUtterance:
		v.inSpeech = false
		return VADCut
	}
	return VADNone
}

// Level is the power of pcm in dB relative to a full-scale square wave
// (dBFS): 0 at most, -100 for digital silence.
func Level(pcm []int16) float64 {
	if len(pcm) == 0 {
		return silenceLevel
	}
	var sum float64
	for _, s := range pcm {
		f := float64(s)
		sum += f * f
	}
	ms := sum / float64(len(pcm)) / (32768 * 32768)
	if ms <= 1e-10 {
		return silenceLevel
	}
	return 10 * math.Log10(ms)
}
