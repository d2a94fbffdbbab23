package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Error is a configuration error that names the key at fault.
type Error struct {
	Key  string // dotted path, e.g. "sip.listen[1]"
	Line int    // 0 when not known
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("config: line %d: %s: %s", e.Line, e.Key, e.Msg)
	}
	return fmt.Sprintf("config: %s: %s", e.Key, e.Msg)
}

// LoadFile reads, expands, checks and validates the file at path.
func LoadFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(data, os.LookupEnv)
}

// Parse reads a configuration document. lookup resolves ${VAR}
// references (os.LookupEnv in production).
func Parse(data []byte, lookup func(string) (string, bool)) (*Config, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg := &Config{}
	if root.Kind == 0 { // empty document
		cfg.applyDefaults()
		return cfg, cfg.Validate()
	}
	if err := expandEnv(&root, "", lookup); err != nil {
		return nil, err
	}
	if err := checkKeys(&root, reflect.TypeOf(cfg).Elem(), ""); err != nil {
		return nil, err
	}
	if err := root.Decode(cfg); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return nil, fmt.Errorf("config: %s", strings.Join(te.Errors, "; "))
		}
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg.applyDefaults()
	return cfg, cfg.Validate()
}

// expandEnv replaces ${VAR} and ${VAR:-default} in every scalar value.
// A variable that is unset and has no default is an error naming the key,
// so a missing secret is caught at start-up rather than sent as "".
func expandEnv(n *yaml.Node, path string, lookup func(string) (string, bool)) error {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if err := expandEnv(c, path, lookup); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := expandEnv(n.Content[i+1], join(path, n.Content[i].Value), lookup); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if err := expandEnv(c, fmt.Sprintf("%s[%d]", path, i), lookup); err != nil {
				return err
			}
		}
	case yaml.ScalarNode:
		v, err := expand(n.Value, lookup)
		if err != nil {
			return &Error{Key: path, Line: n.Line, Msg: err.Error()}
		}
		if v != n.Value && n.Style == 0 {
			// An unquoted ${VAR} takes the type of what it expands to,
			// so `max_calls: ${MAX_CALLS:-100}` is a number; a quoted
			// one stays a string.
			n.Tag = ""
		}
		n.Value = v
	}
	return nil
}

func expand(s string, lookup func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("unterminated ${ in %q", s)
		}
		b.WriteString(s[:i])
		ref := s[i+2 : i+j]
		name, def, hasDef := strings.Cut(ref, ":-")
		if name == "" {
			return "", fmt.Errorf("empty variable name in %q", s)
		}
		if v, ok := lookup(name); ok {
			b.WriteString(v)
		} else if hasDef {
			b.WriteString(def)
		} else {
			return "", fmt.Errorf("environment variable %s is not set", name)
		}
		s = s[i+j+1:]
	}
}

var linePrefix = regexp.MustCompile(`(^|; )line \d+: `)

// checkKeys walks the document beside the Go type it decodes into and
// reports the first mapping key that has no field, by its dotted path.
func checkKeys(n *yaml.Node, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if err := checkKeys(c, t, path); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		switch t.Kind() {
		case reflect.Struct:
			fields := yamlFields(t)
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				ft, ok := fields[k.Value]
				if !ok {
					return &Error{Key: join(path, k.Value), Line: k.Line,
						Msg: fmt.Sprintf("unknown key (known: %s)", knownKeys(t))}
				}
				if err := checkKeys(n.Content[i+1], ft, join(path, k.Value)); err != nil {
					return err
				}
			}
		case reflect.Map:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if err := checkKeys(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value)); err != nil {
					return err
				}
			}
		}
	case yaml.SequenceNode:
		if t.Kind() == reflect.Slice {
			for i, c := range n.Content {
				if err := checkKeys(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return err
				}
			}
		}
	case yaml.ScalarNode:
		// Decode the value on its own so that a type error (a word
		// where a number or duration belongs) names its key; yaml's
		// own errors give only the line.
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			msg := err.Error()
			var te *yaml.TypeError
			if errors.As(err, &te) {
				msg = strings.Join(te.Errors, "; ")
			}
			// yaml puts its own "line N: " in front; Error says the line.
			msg = linePrefix.ReplaceAllString(msg, "")
			return &Error{Key: path, Line: n.Line, Msg: msg}
		}
	}
	return nil
}

func yamlFields(t reflect.Type) map[string]reflect.Type {
	m := make(map[string]reflect.Type, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		m[name] = f.Type
	}
	return m
}

func knownKeys(t reflect.Type) string {
	var names []string
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return strings.Join(names, ", ")
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
