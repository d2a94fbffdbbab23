package flow

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sipagent/sipagent/agent/speech"
	"github.com/sipagent/sipagent/media/wav"
)

// maxFileSize bounds a flow file read by Load.
const maxFileSize = 1 << 20

// Load reads the flow file name from fsys and parses it. Prompt files are
// found relative to the flow file's directory.
func Load(fsys fs.FS, name string) (*Flow, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("flow: %w", err)
	}
	defer func() { _ = f.Close() }() // read only: a close error loses nothing
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("flow: %s: %w", name, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("flow: %s: larger than %d bytes", name, maxFileSize)
	}
	prompts := fsys
	if dir := path.Dir(name); dir != "." {
		if prompts, err = fs.Sub(fsys, dir); err != nil {
			return nil, fmt.Errorf("flow: %s: %w", name, err)
		}
	}
	fl, err := Parse(data, prompts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return fl, nil
}

// Parse parses and checks a flow file and loads its prompts from fsys,
// which may be nil for a flow that plays no files. Errors are
// *ParseError for mistakes in the file, naming the step and key.
func Parse(data []byte, fsys fs.FS) (*Flow, error) {
	p := &parser{fsys: fsys, prompts: make(map[string][]int16)}
	return p.parse(data)
}

// parser holds what parsing one file needs.
type parser struct {
	fsys    fs.FS
	prompts map[string][]int16 // loaded prompts by path, shared by steps
}

// ref is a step name used somewhere, kept to check it exists.
type ref struct {
	at     where
	node   *yaml.Node
	target string
}

var (
	actionKeys = []string{"play", "say", "gather", "pause", "echo", "transfer", "hangup"}
	stepKeys   = append(slices.Clone(actionKeys), "next", "branch", "on_failure")
)

func (p *parser) parse(data []byte) (*Flow, error) {
	top := where{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, top.errorf(nil, "empty file")
		}
		return nil, fmt.Errorf("flow: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, top.errorf(&extra, "more than one YAML document")
	}
	root := doc.Content[0]
	entries, err := fields(top, root, []string{"start", "steps"})
	if err != nil {
		return nil, err
	}
	f := &Flow{steps: make(map[string]*step)}
	var refs []ref
	var stepsNode *yaml.Node
	for _, e := range entries {
		switch e.key {
		case "start":
			if f.start, err = text(top.in("start"), e.value); err != nil {
				return nil, err
			}
			refs = append(refs, ref{at: top.in("start"), node: e.value, target: f.start})
		case "steps":
			stepsNode = e.value
		}
	}
	if f.start == "" {
		return nil, top.errorf(root, "missing start: the name of the first step")
	}
	if stepsNode == nil {
		return nil, top.errorf(root, "missing steps")
	}
	defs, err := fields(top.in("steps"), stepsNode, nil)
	if err != nil {
		return nil, err
	}
	for _, d := range defs {
		if d.key == "" {
			return nil, top.in("steps").errorf(d.keyAt, "a step needs a name")
		}
		st, stepRefs, err := p.step(d.key, d.value)
		if err != nil {
			return nil, err
		}
		if f.sayStep == "" && saysText(st.act) {
			f.sayStep = d.key
		}
		f.steps[d.key] = st
		f.order = append(f.order, d.key)
		refs = append(refs, stepRefs...)
	}
	for _, r := range refs {
		if _, ok := f.steps[r.target]; !ok {
			return nil, r.at.errorf(r.node, "unknown step %q", r.target)
		}
	}
	if err := f.checkReachable(defs); err != nil {
		return nil, err
	}
	return f, nil
}

// checkReachable refuses steps no route from start leads to: they are
// most often a misspelt next.
func (f *Flow) checkReachable(defs []field) error {
	seen := map[string]bool{f.start: true}
	queue := []string{f.start}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		for _, t := range f.steps[name].targets() {
			if !seen[t] {
				seen[t] = true
				queue = append(queue, t)
			}
		}
	}
	for _, d := range defs {
		if !seen[d.key] {
			return where{step: d.key}.errorf(d.keyAt, "unreachable from start step %q", f.start)
		}
	}
	return nil
}

// step parses one step definition.
func (p *parser) step(name string, n *yaml.Node) (*step, []ref, error) {
	at := where{step: name}
	entries, err := fields(at, n, stepKeys)
	if err != nil {
		return nil, nil, err
	}
	st := &step{name: name}
	var refs []ref
	var actionKey string
	var nextAt, branchAt, failAt *field
	for i := range entries {
		e := &entries[i]
		switch e.key {
		case "next":
			nextAt = e
			if st.next, err = text(at.in("next"), e.value); err != nil {
				return nil, nil, err
			}
			refs = append(refs, ref{at.in("next"), e.value, st.next})
		case "on_failure":
			failAt = e
			if st.onFailure, err = text(at.in("on_failure"), e.value); err != nil {
				return nil, nil, err
			}
			refs = append(refs, ref{at.in("on_failure"), e.value, st.onFailure})
		case "branch":
			branchAt = e
		default:
			if actionKey != "" {
				return nil, nil, at.errorf(e.keyAt, "two actions, %s and %s: a step does one thing (chain steps with next)", actionKey, e.key)
			}
			actionKey = e.key
			if st.act, err = p.action(at.in(e.key), e.key, e.value); err != nil {
				return nil, nil, err
			}
		}
	}
	if actionKey == "" {
		return nil, nil, at.errorf(n, "no action (want one of %s)", strings.Join(actionKeys, ", "))
	}
	if failAt != nil && actionKey != "transfer" {
		return nil, nil, at.in("on_failure").errorf(failAt.keyAt, "only a transfer step can fail over")
	}
	if branchAt != nil {
		g, ok := st.act.(*gatherAction)
		if !ok {
			return nil, nil, at.in("branch").errorf(branchAt.keyAt, "only a gather step can branch")
		}
		branchRefs, err := st.parseBranch(at.in("branch"), branchAt.value, g)
		if err != nil {
			return nil, nil, err
		}
		refs = append(refs, branchRefs...)
	}
	switch {
	case actionKey == "hangup" && nextAt != nil:
		return nil, nil, at.in("next").errorf(nextAt.keyAt, "a hangup step ends the call; nothing comes next")
	case actionKey == "hangup":
	case st.onDefault != "" && st.onTimeout != "" && nextAt != nil:
		return nil, nil, at.in("next").errorf(nextAt.keyAt, "never taken: branch has both default and timeout")
	case st.onDefault != "" && st.onTimeout != "":
	case nextAt == nil && actionKey == "gather":
		return nil, nil, at.errorf(n, "missing next (or both default and timeout in branch)")
	case nextAt == nil:
		return nil, nil, at.errorf(n, "missing next")
	}
	return st, refs, nil
}

// parseBranch fills st's branch routes from the gather's branch mapping.
func (st *step) parseBranch(at where, n *yaml.Node, g *gatherAction) ([]ref, error) {
	entries, err := fields(at, n, nil)
	if err != nil {
		return nil, err
	}
	st.branch = make(map[string]string)
	var refs []ref
	for _, e := range entries {
		target, err := text(at.in(e.key), e.value)
		if err != nil {
			return nil, err
		}
		refs = append(refs, ref{at, e.value, target})
		switch e.key {
		case "default":
			st.onDefault = target
			continue
		case "timeout":
			st.onTimeout = target
			continue
		}
		if strings.Trim(e.key, dtmfKeys) != "" || e.key == "" {
			return nil, at.errorf(e.keyAt, "%q is not a key sequence (want digits of %s, default or timeout)", e.key, dtmfKeys)
		}
		if g.finishKey != 0 && strings.ContainsRune(e.key, g.finishKey) {
			return nil, at.errorf(e.keyAt, "%q contains the finish key %q, which is never gathered", e.key, g.finishKey)
		}
		if g.maxDigits > 0 && len(e.key) > g.maxDigits {
			return nil, at.errorf(e.keyAt, "%q is longer than max_digits %d", e.key, g.maxDigits)
		}
		st.branch[e.key] = target
	}
	return refs, nil
}

// action parses the value of an action key.
func (p *parser) action(at where, kind string, n *yaml.Node) (action, error) {
	switch kind {
	case "play":
		pr, err := p.filePrompt(at, n)
		return &playAction{prompt: pr}, err
	case "say":
		pr, err := sayPrompt(at, n)
		return &playAction{prompt: pr}, err
	case "gather":
		return p.gather(at, n)
	case "pause":
		d, err := duration(at, n, minDuration, maxDuration)
		return &pauseAction{d: d}, err
	case "echo":
		return parseEcho(at, n)
	case "transfer":
		return parseTransfer(at, n)
	default: // hangup
		b, err := boolean(at, n)
		if err == nil && !b {
			err = at.errorf(n, "want true (to go on, use another step)")
		}
		return hangupAction{}, err
	}
}

// filePrompt loads the WAV file named by n.
func (p *parser) filePrompt(at where, n *yaml.Node) (prompt, error) {
	name, err := text(at, n)
	if err != nil {
		return prompt{}, err
	}
	if !fs.ValidPath(name) {
		return prompt{}, at.errorf(n, "%q: want a relative path with / separators and no ..", name)
	}
	if pcm, ok := p.prompts[name]; ok {
		return prompt{file: name, pcm: pcm}, nil
	}
	if p.fsys == nil {
		return prompt{}, at.errorf(n, "%q: no file system to load prompts from", name)
	}
	pcm, err := wav.LoadFS(p.fsys, name)
	if err != nil {
		return prompt{}, at.errorf(n, "%v", err)
	}
	if len(pcm) == 0 {
		return prompt{}, at.errorf(n, "%q holds no audio", name)
	}
	p.prompts[name] = pcm
	return prompt{file: name, pcm: pcm}, nil
}

// sayPrompt returns the text n as a prompt to synthesize.
func sayPrompt(at where, n *yaml.Node) (prompt, error) {
	s, err := text(at, n)
	if err != nil {
		return prompt{}, err
	}
	if strings.TrimSpace(s) == "" {
		return prompt{}, at.errorf(n, "nothing to say")
	}
	if len(s) > speech.MaxTextBytes {
		return prompt{}, at.errorf(n, "text is %d bytes, limit %d", len(s), speech.MaxTextBytes)
	}
	return prompt{text: s}, nil
}
