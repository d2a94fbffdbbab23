package flow

import "embed"

//go:embed demo/demo.yaml demo/*.wav
var demoFiles embed.FS

// Demo returns the built-in demo flow, parsed afresh: a greeting, then a
// menu offering an echo test (1), call forwarding (2) and hanging up (3).
// Its prompts are embedded WAV files, so it needs no speech synthesizer.
// Forwarding goes to the target given to New with WithTransferTarget, and
// says that forwarding is not configured when there is none or the server
// cannot transfer.
func Demo() (*Flow, error) { return Load(demoFiles, "demo/demo.yaml") }
