package flow

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics and that any flow it accepts
// is closed: every route of every step leads to a defined step.
func FuzzParse(f *testing.F) {
	demo, err := demoFiles.ReadFile("demo/demo.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(demo))
	f.Add(transferFlow)
	f.Add(steps("a: {gather: {play: a.wav, max_digits: 2, finish_on_key: \"#\"}, branch: {\"1\": a, default: b, timeout: b}}", "b: {hangup: true}"))
	f.Add(steps("a: {echo: {duration: 1s, until_key: \"*\"}, next: b}", "b: {pause: 1s, next: c}", "c: {say: hi, next: d}", "d: {hangup: true}"))
	f.Add("start: a\nsteps:\n  a: &x {play: a.wav, next: a}\n  b: *x\n")
	f.Add("start: [\n")
	f.Add("")
	fsys := testFS(f)
	f.Fuzz(func(t *testing.T, yaml string) {
		fl, err := Parse([]byte(yaml), fsys)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) && !strings.HasPrefix(err.Error(), "flow: ") {
				t.Fatalf("error %q is neither a ParseError nor prefixed flow:", err)
			}
			return
		}
		if _, ok := fl.steps[fl.start]; !ok {
			t.Fatalf("start %q is not a step", fl.start)
		}
		if len(fl.order) != len(fl.steps) {
			t.Fatalf("%d names in order, %d steps", len(fl.order), len(fl.steps))
		}
		for name, st := range fl.steps {
			if st.act == nil {
				t.Fatalf("step %q has no action", name)
			}
			outcomes := []outcome{{}}
			switch st.act.(type) {
			case hangupAction:
				continue
			case *gatherAction:
				outcomes = []outcome{{gathered: true}, {gathered: true, digits: "1"}, {gathered: true, digits: "#9"}}
			case *transferAction:
				outcomes = []outcome{{}, {failed: true}}
			}
			for _, o := range outcomes {
				if _, ok := fl.steps[st.route(o)]; !ok {
					t.Fatalf("step %q routes %+v to %q, not a step", name, o, st.route(o))
				}
			}
		}
	})
}
