// Package flow runs an offline IVR: a phone menu described in a YAML file
// and played by an agent, with no web server or cloud service to consult.
// It is for demos, echo tests, simple menus and forwarding; anything that
// needs to look things up or understand speech belongs in another agent.
//
// # File format
//
// A flow file names the step to start with and defines the steps. Each
// step does exactly one action, then goes on to another step:
//
//	start: greeting
//	steps:
//	  greeting:
//	    play: greeting.wav
//	    next: menu
//	  menu:
//	    gather:
//	      say: Press 1 for sales, 2 to hear this again.
//	      max_digits: 1
//	      timeout: 5s
//	      attempts: 3
//	    branch:
//	      "1": sales
//	      "2": menu
//	      default: menu
//	      timeout: goodbye
//	  sales:
//	    transfer: {target: "sip:sales@example.com", mode: auto}
//	    on_failure: busy
//	    next: goodbye
//	  busy:
//	    say: Sales cannot take your call. Please try again later.
//	    next: goodbye
//	  goodbye:
//	    say: Goodbye.
//	    next: hangup
//	  hangup:
//	    hangup: true
//
// The actions:
//
//   - play: a WAV file (16-bit PCM, mu-law or A-law, any rate; see
//     media/wav), relative to the flow file's directory. Prompts are loaded
//     when the flow is parsed, so a missing or broken file stops start-up,
//     not a call.
//   - say: text, spoken by the speech.Synthesizer given to New with
//     WithSynthesizer. New refuses a flow that says text without one.
//   - gather: collects DTMF keys. Its keys: play or say, an optional
//     prompt that a key press interrupts at once (barge-in), the key
//     counting as the first entered; max_digits, 1 to 32, ends the input
//     when reached (no limit if absent); finish_on_key, one key that ends
//     the input and is not kept; timeout, how long to wait for each key
//     (default 5s); attempts, how many times to play the prompt and wait
//     while nothing is entered (default 1).
//   - pause: a duration to wait in silence.
//   - echo: plays the caller's voice back (package echo). Its keys:
//     duration and until_key, at least one of them, and delay (default
//     200ms). Keys other than until_key are discarded while it runs.
//   - transfer: asks for the call to be forwarded (agent.Call.Transfer).
//     Its keys: target, a sip:, sips: or tel: URI or client:NAME (a user
//     registered to sipagent, always bridged), or if absent the target
//     given to New with WithTransferTarget; mode, refer, bridge or auto
//     (absent: the server's default); and for a bridge, as TwiML <Dial>
//     has them: timeout (how long the target may ring, 5s-10m, default
//     30s), time_limit (default 4h), caller_id (the From user),
//     hangup_on_star (* leaves the bridge and returns to the flow) and
//     answer_on_bridge. A flow whose first step is a transfer with
//     answer_on_bridge: true leaves the call ringing, so the caller hears
//     the target ring (or its early media) and is answered only when the
//     target answers; if the transfer fails, the next step that plays
//     audio or listens answers the call, and a hangup refuses it with 480.
//   - hangup: true ends the call.
//
// Where to go next:
//
//   - next names the following step. Every step but hangup needs it,
//     except a gather whose branch has both default and timeout.
//   - branch, on a gather only, maps what was entered to steps: exact key
//     sequences (quote them: "1", "*9"), default for anything else, and
//     timeout for nothing entered once the attempts are used up. What
//     branch does not route goes to next.
//   - on_failure, on a transfer only, is where to go when the transfer
//     fails: no target (ErrNoTransferTarget), no transfer service
//     (agent.ErrTransferUnsupported), or any result but "completed" (busy,
//     no-answer, failed, canceled). Without it, failures go to next.
//
// Durations are written as Go writes them: 500ms, 5s, 1m30s. Keys pressed
// while a play, say or pause step runs wait for the next gather, so
// callers who know the menu can type ahead.
//
// Parse is strict. It refuses unknown keys, repeated keys, steps with no
// action or two, values of the wrong kind or out of range, unknown step
// names, and steps that cannot be reached from start, with a *ParseError
// that names the step and key:
//
//	flow: step "menu": branch: unknown step "ech" (line 12)
//
// # Running
//
// New makes an agent.Agent of a Flow. Its Serve returns nil when a hangup
// step runs or the caller hangs up, and an error when a step fails (a
// synthesis error, say) or when 16 steps in a row neither play audio nor
// wait for the caller (ErrNoProgress), which stops a transfer whose
// on_failure leads straight back to it from spinning.
//
// Demo returns the flow built into sipagent, from the demo directory.
package flow
