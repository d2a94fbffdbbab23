package flow

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The parser walks yaml.Node trees itself rather than decoding into
// structs: that way every error can name the step and key it is about,
// in the flow's own words, instead of naming Go types.

// where locates a value in a flow file for error messages.
type where struct {
	step string // "" at the top level
	key  string // "" for the step itself
}

// in returns w one key deeper.
func (w where) in(key string) where {
	if w.key != "" {
		key = w.key + ": " + key
	}
	return where{step: w.step, key: key}
}

// errorf returns a ParseError at w, on n's line.
func (w where) errorf(n *yaml.Node, format string, args ...any) *ParseError {
	e := &ParseError{Step: w.step, Key: w.key, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line = n.Line
	}
	return e
}

// field is one key and value of a mapping.
type field struct {
	key   string
	keyAt *yaml.Node
	value *yaml.Node
}

// deref follows an alias to the node it names.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// fields returns the entries of mapping n in file order, refusing keys
// that repeat or, when known is not nil, are not in known.
func fields(w where, n *yaml.Node, known []string) ([]field, error) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return nil, w.errorf(n, "want a mapping of keys to values, got %s", kindName(n))
	}
	out := make([]field, 0, len(n.Content)/2)
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := deref(n.Content[i])
		if k.Kind != yaml.ScalarNode {
			return nil, w.errorf(k, "want a plain key, got %s", kindName(k))
		}
		if known != nil && !slices.Contains(known, k.Value) {
			return nil, w.errorf(k, "unknown key %q (want one of %s)", k.Value, strings.Join(known, ", "))
		}
		if seen[k.Value] {
			return nil, w.errorf(k, "key %q given twice", k.Value)
		}
		seen[k.Value] = true
		out = append(out, field{key: k.Value, keyAt: k, value: n.Content[i+1]})
	}
	return out, nil
}

// text returns the non-empty scalar n.
func text(w where, n *yaml.Node) (string, error) {
	n = deref(n)
	switch {
	case n.Kind != yaml.ScalarNode:
		return "", w.errorf(n, "want a value, got %s", kindName(n))
	case n.Tag == "!!null" || n.Value == "":
		return "", w.errorf(n, "missing value")
	}
	return n.Value, nil
}

// integer returns the whole number n, which must lie in [lo, hi].
func integer(w where, n *yaml.Node, lo, hi int) (int, error) {
	s, err := text(w, n)
	if err != nil {
		return 0, err
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, w.errorf(n, "want a whole number, got %q", s)
	}
	if v < lo || v > hi {
		return 0, w.errorf(n, "%d is out of range (want %d to %d)", v, lo, hi)
	}
	return v, nil
}

// duration returns the duration n, such as 5s or 500ms, which must lie in
// [lo, hi].
func duration(w where, n *yaml.Node, lo, hi time.Duration) (time.Duration, error) {
	s, err := text(w, n)
	if err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, w.errorf(n, "want a duration such as 5s or 500ms, got %q", s)
	}
	if d < lo || d > hi {
		return 0, w.errorf(n, "%v is out of range (want %v to %v)", d, lo, hi)
	}
	return d, nil
}

// boolean returns the true or false n.
func boolean(w where, n *yaml.Node) (bool, error) {
	n = deref(n)
	var b bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
		return false, w.errorf(n, "want true or false, got %s", kindName(n))
	}
	return b, nil
}

// dtmfKeys are the keys a caller can press.
const dtmfKeys = "0123456789*#ABCD"

// key returns the single DTMF key n.
func key(w where, n *yaml.Node) (rune, error) {
	s, err := text(w, n)
	if err != nil {
		return 0, err
	}
	if len(s) != 1 || !strings.Contains(dtmfKeys, s) {
		return 0, w.errorf(n, "want one key of %s, got %q (quote \"#\" and \"*\")", dtmfKeys, s)
	}
	return rune(s[0]), nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	default:
		return "something else"
	}
}
