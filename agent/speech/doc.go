// Package speech turns text into the 8 kHz mono PCM that agents play.
//
// Synthesizer is the one method agents need. Espeak implements it by
// running the espeak-ng program, which is small, offline and robotic: good
// for prompts that change, tests and demos, not for a natural voice. Cache
// wraps any Synthesizer so that prompts said again and again are
// synthesized once. Cloud speech services belong in their own packages
// behind the same interface.
package speech
