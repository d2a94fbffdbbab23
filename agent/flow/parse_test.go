package flow

import (
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/sipagent/sipagent/agent"
)

// steps builds a flow file with start a from step lines.
func steps(lines ...string) string {
	return "start: a\nsteps:\n  " + strings.Join(lines, "\n  ") + "\n"
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		check func(t *testing.T, f *Flow)
	}{
		{
			name: "play and hangup",
			yaml: steps("a: {play: a.wav, next: b}", "b: {hangup: true}"),
			check: func(t *testing.T, f *Flow) {
				p := f.steps["a"].act.(*playAction)
				if p.prompt.file != "a.wav" || !slices.Equal(p.prompt.pcm, promptA) {
					t.Errorf("prompt = %q with %d samples", p.prompt.file, len(p.prompt.pcm))
				}
				if f.sayStep != "" {
					t.Errorf("sayStep = %q for a flow without say", f.sayStep)
				}
			},
		},
		{
			name: "gather with branch and defaults",
			yaml: steps(
				"a:",
				"  gather: {say: Press one., max_digits: 2, finish_on_key: \"#\"}",
				"  branch: {1: b, \"12\": b, \"*\": b, default: a, timeout: b}",
				"b: {hangup: true}",
			),
			check: func(t *testing.T, f *Flow) {
				st := f.steps["a"]
				g := st.act.(*gatherAction)
				if g.prompt.text != "Press one." || g.maxDigits != 2 || g.finishKey != '#' || g.timeout != defaultTimeout || g.attempts != 1 {
					t.Errorf("gather = %+v", g)
				}
				if st.branch["1"] != "b" || st.branch["12"] != "b" || st.branch["*"] != "b" || st.onDefault != "a" || st.onTimeout != "b" || st.next != "" {
					t.Errorf("routes = %+v", st)
				}
				if f.sayStep != "a" {
					t.Errorf("sayStep = %q, want a", f.sayStep)
				}
			},
		},
		{
			name: "echo, pause and transfer",
			yaml: steps(
				"a: {pause: 1500ms, next: b}",
				"b: {echo: {duration: 1m, until_key: \"*\", delay: 0s}, next: c}",
				"c: {transfer: {target: \"sip:sales@example.com;transport=tcp\", mode: refer}, on_failure: b, next: d}",
				"d: {transfer: {}, next: e}",
				"e: {hangup: true}",
			),
			check: func(t *testing.T, f *Flow) {
				if p := f.steps["a"].act.(*pauseAction); p.d != 1500*time.Millisecond {
					t.Errorf("pause = %v", p.d)
				}
				if e := f.steps["b"].act.(*echoAction); *e != (echoAction{duration: time.Minute, key: '*'}) {
					t.Errorf("echo = %+v", e)
				}
				want := agent.TransferRequest{Target: "sip:sales@example.com;transport=tcp", Mode: "refer"}
				if tr := f.steps["c"].act.(*transferAction); tr.req != want || f.steps["c"].onFailure != "b" {
					t.Errorf("transfer = %+v", tr.req)
				}
				if tr := f.steps["d"].act.(*transferAction); tr.req != (agent.TransferRequest{}) {
					t.Errorf("empty transfer = %+v", tr.req)
				}
			},
		},
		{
			name: "anchors and aliases",
			yaml: "start: a\nsteps:\n  a:\n    gather: &menu {play: a.wav, max_digits: 1, attempts: 2}\n    next: b\n" +
				"  b:\n    gather: *menu\n    next: c\n  c: {hangup: true}\n",
			check: func(t *testing.T, f *Flow) {
				if g := f.steps["b"].act.(*gatherAction); g.attempts != 2 || g.prompt.file != "a.wav" {
					t.Errorf("aliased gather = %+v", g)
				}
			},
		},
		{
			name: "steps in file order",
			yaml: steps("a: {play: a.wav, next: z}", "z: {play: b.wav, next: m}", "m: {hangup: true}"),
			check: func(t *testing.T, f *Flow) {
				if got := f.Steps(); !slices.Equal(got, []string{"a", "z", "m"}) || f.Start() != "a" {
					t.Errorf("Steps = %v, Start = %q", got, f.Start())
				}
			},
		},
		{
			name: "package doc example",
			yaml: `start: greeting
steps:
  greeting:
    play: greeting.wav
    next: menu
  menu:
    gather:
      say: Press 1 for sales, 2 to hear this again.
      max_digits: 1
      timeout: 5s
      attempts: 3
    branch:
      "1": sales
      "2": menu
      default: menu
      timeout: goodbye
  sales:
    transfer: {target: "sip:sales@example.com", mode: auto}
    on_failure: busy
    next: goodbye
  busy:
    say: Sales cannot take your call. Please try again later.
    next: goodbye
  goodbye:
    say: Goodbye.
    next: hangup
  hangup:
    hangup: true
`,
		},
	}
	fsys := testFS(t)
	fsys["greeting.wav"] = fsys["a.wav"]
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(tt.yaml), fsys)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if tt.check != nil {
				tt.check(t, f)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		yaml      string
		step, key string // expected ParseError fields
		msg       string // expected in the message
	}{
		{"empty", "", "", "", "empty file"},
		{"two documents", steps("a: {hangup: true}") + "---\nstart: a\n", "", "", "more than one YAML document"},
		{"top not mapping", "- a\n", "", "", "want a mapping"},
		{"unknown top key", "stat: a\nsteps: {a: {hangup: true}}\n", "", "", `unknown key "stat"`},
		{"missing start", "steps: {a: {hangup: true}}\n", "", "", "missing start"},
		{"missing steps", "start: a\n", "", "", "missing steps"},
		{"empty start", "start:\nsteps: {a: {hangup: true}}\n", "", "start", "missing value"},
		{"unknown start", "start: b\nsteps: {a: {hangup: true}}\n", "", "start", `unknown step "b"`},
		{"steps a list", "start: a\nsteps: [a]\n", "", "steps", "want a mapping"},
		{"step not mapping", steps("a: play"), "a", "", `want a mapping of keys to values, got "play"`},
		{"repeated step", steps("a: {hangup: true}", "a: {hangup: true}"), "", "steps", `key "a" given twice`},
		{"unknown step key", steps("a: {play: a.wav, nxt: b}", "b: {hangup: true}"), "a", "", `unknown key "nxt"`},
		{"repeated step key", "start: a\nsteps:\n  a:\n    play: a.wav\n    play: b.wav\n    next: a\n", "a", "", `key "play" given twice`},
		{"no action", steps("a: {next: a}"), "a", "", "no action"},
		{"two actions", steps("a: {play: a.wav, say: hi, next: a}"), "a", "", "two actions, play and say"},
		{"missing next", steps("a: {play: a.wav}"), "a", "", "missing next"},
		{"unknown next", steps("a: {play: a.wav, next: ech}"), "a", "next", `unknown step "ech"`},
		{"next a mapping", steps("a: {play: a.wav, next: {b: c}}"), "a", "next", "want a value, got a mapping"},
		{"unreachable", steps("a: {hangup: true}", "orphan: {hangup: true}"), "orphan", "", `unreachable from start step "a"`},

		{"play missing file", steps("a: {play: missing.wav, next: a}"), "a", "play", "missing.wav"},
		{"play bad file", steps("a: {play: bad.wav, next: a}"), "a", "play", "not a RIFF/WAVE file"},
		{"play empty file", steps("a: {play: empty.wav, next: a}"), "a", "play", "holds no audio"},
		{"play escapes", steps("a: {play: ../a.wav, next: a}"), "a", "play", "relative path"},
		{"play absolute", steps("a: {play: /a.wav, next: a}"), "a", "play", "relative path"},
		{"say empty", steps("a: {say: \"\", next: a}"), "a", "say", "missing value"},
		{"say blank", steps("a: {say: \"  \", next: a}"), "a", "say", "nothing to say"},
		{"say too long", steps("a: {say: " + strings.Repeat("x", 5000) + ", next: a}"), "a", "say", "limit 4096"},

		{"hangup false", steps("a: {hangup: false}"), "a", "hangup", "want true"},
		{"hangup yes", steps("a: {hangup: yes}"), "a", "hangup", `want true or false, got "yes"`},
		{"hangup with next", steps("a: {hangup: true, next: a}"), "a", "next", "nothing comes next"},

		{"pause no unit", steps("a: {pause: 5, next: a}"), "a", "pause", `want a duration such as 5s or 500ms, got "5"`},
		{"pause zero", steps("a: {pause: 0s, next: a}"), "a", "pause", "out of range"},
		{"pause huge", steps("a: {pause: 2h, next: a}"), "a", "pause", "out of range"},

		{"gather unknown key", steps("a: {gather: {max_digit: 1}, next: a}"), "a", "gather", `unknown key "max_digit"`},
		{"gather not mapping", steps("a: {gather: yes, next: a}"), "a", "gather", "want a mapping"},
		{"gather two prompts", steps("a: {gather: {play: a.wav, say: hi}, next: a}"), "a", "gather", "choose one prompt"},
		{"gather prompt missing", steps("a: {gather: {play: nope.wav}, next: a}"), "a", "gather: play", "nope.wav"},
		{"gather bad timeout", steps("a: {gather: {timeout: soon}, next: a}"), "a", "gather: timeout", "want a duration"},
		{"gather max_digits zero", steps("a: {gather: {max_digits: 0}, next: a}"), "a", "gather: max_digits", "out of range"},
		{"gather max_digits word", steps("a: {gather: {max_digits: one}, next: a}"), "a", "gather: max_digits", "want a whole number"},
		{"gather attempts", steps("a: {gather: {attempts: 11}, next: a}"), "a", "gather: attempts", "out of range"},
		{"gather finish two keys", steps("a: {gather: {finish_on_key: \"##\"}, next: a}"), "a", "gather: finish_on_key", "want one key"},
		{"gather finish not key", steps("a: {gather: {finish_on_key: x}, next: a}"), "a", "gather: finish_on_key", "want one key"},
		{"gather without next", steps("a: {gather: {max_digits: 1}, branch: {default: a}}"), "a", "", "missing next (or both default and timeout in branch)"},
		{"gather next never taken", steps("a: {gather: {max_digits: 1}, branch: {default: a, timeout: a}, next: a}"), "a", "next", "never taken"},

		{"branch unknown step", "start: menu\nsteps:\n  menu:\n    gather: {max_digits: 1}\n    branch: {\"1\": ech}\n    next: menu\n", "menu", "branch", `unknown step "ech"`},
		{"branch on play", steps("a: {play: a.wav, branch: {1: a}, next: a}"), "a", "branch", "only a gather step can branch"},
		{"branch bad key", steps("a: {gather: {max_digits: 2}, branch: {x1: a}, next: a}"), "a", "branch", `"x1" is not a key sequence`},
		{"branch key too long", steps("a: {gather: {max_digits: 1}, branch: {\"12\": a}, next: a}"), "a", "branch", "longer than max_digits 1"},
		{"branch finish key", steps("a: {gather: {finish_on_key: \"#\"}, branch: {\"1#\": a}, next: a}"), "a", "branch", "finish key"},
		{"branch target missing", steps("a: {gather: {max_digits: 1}, branch: {1: }, next: a}"), "a", "branch: 1", "missing value"},
		{"branch a list", steps("a: {gather: {max_digits: 1}, branch: [a], next: a}"), "a", "branch", "want a mapping"},

		{"echo no end", steps("a: {echo: {delay: 1s}, next: a}"), "a", "echo", "want duration or until_key"},
		{"echo delay", steps("a: {echo: {until_key: \"#\", delay: 3s}, next: a}"), "a", "echo: delay", "out of range"},
		{"echo unknown key", steps("a: {echo: {until: \"#\"}, next: a}"), "a", "echo", `unknown key "until"`},

		{"transfer bad target", steps("a: {transfer: {target: \"http://x\"}, next: a}"), "a", "transfer: target", "want a sip:, sips: or tel: URI"},
		{"transfer bad mode", steps("a: {transfer: {target: \"sip:a@b\", mode: blind}, next: a}"), "a", "transfer: mode", `"blind": want refer, bridge or auto`},
		{"on_failure on play", steps("a: {play: a.wav, on_failure: a, next: a}"), "a", "on_failure", "only a transfer step"},
		{"on_failure unknown", steps("a: {transfer: {}, on_failure: b, next: a}"), "a", "on_failure", `unknown step "b"`},
	}
	fsys := testFS(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), fsys)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse error = %v, want a *ParseError", err)
			}
			if pe.Step != tt.step || pe.Key != tt.key || !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("Parse error = %q\n  step %q key %q msg %q\n  want step %q key %q msg containing %q",
					err, pe.Step, pe.Key, pe.Msg, tt.step, tt.key, tt.msg)
			}
		})
	}
}

func TestParseErrorMessage(t *testing.T) {
	_, err := Parse([]byte("start: menu\nsteps:\n  menu:\n    gather: {max_digits: 1}\n    branch: {\"1\": ech}\n    next: menu\n"), nil)
	want := `flow: step "menu": branch: unknown step "ech" (line 5)`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestParseYAMLSyntaxError(t *testing.T) {
	_, err := Parse([]byte("start: [\n"), nil)
	if err == nil || !strings.HasPrefix(err.Error(), "flow: yaml:") {
		t.Errorf("error = %v, want a flow: yaml: error", err)
	}
}

func TestParseWithoutFS(t *testing.T) {
	_, err := Parse([]byte(steps("a: {play: a.wav, next: a}")), nil)
	if err == nil || !strings.Contains(err.Error(), "no file system") {
		t.Errorf("error = %v, want no file system", err)
	}
	if _, err := Parse([]byte(steps("a: {say: hi, next: b}", "b: {hangup: true}")), nil); err != nil {
		t.Errorf("flow without files: %v", err)
	}
}

func TestLoad(t *testing.T) {
	fsys := testFS(t)
	f, err := Load(fsys, "flows/main.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	// c.wav is found beside the flow file, not at the root.
	if p := f.steps["a"].act.(*playAction); !slices.Equal(p.prompt.pcm, promptA) {
		t.Error("prompt not loaded from the flow file's directory")
	}
	if _, err := Load(fsys, "flows/missing.yaml"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
	fsys["big.yaml"] = wavFile(t, make([]int16, maxFileSize))
	if _, err := Load(fsys, "big.yaml"); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("Load(big) = %v, want too large", err)
	}
	fsys["broken.yaml"] = &fstest.MapFile{Data: []byte("start: a\n")}
	if _, err := Load(fsys, "broken.yaml"); err == nil || !strings.HasPrefix(err.Error(), "broken.yaml: flow:") {
		t.Errorf("Load(broken) = %v, want error naming the file", err)
	}
}
