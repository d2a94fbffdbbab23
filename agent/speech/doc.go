// Package speech is the agents' speech: text into the 8 kHz mono PCM they
// play, and the caller's PCM into text.
//
// Synthesizer turns text into speech. Espeak implements it by running the
// espeak-ng program, which is small, offline and robotic: good for
// prompts that change, tests and demos, not for a natural voice. Cache
// wraps any Synthesizer so that prompts said again and again are
// synthesized once.
//
// Recognizer turns speech into text, as a stream: audio in, partial and
// final transcripts out, an utterance ending after a configurable silence
// (VAD does the endpointing for recognizers that need it). Pocketsphinx
// runs the offline pocketsphinx recognizer per utterance and is reliable
// when given hints (the phrases a menu expects); the deepgram subpackage
// streams to Deepgram, the cloud recognizer telephony agents use. Listen
// runs a recognizer on a call: it plays a prompt the caller can talk
// over, and returns what was said, a key, or no input.
package speech
