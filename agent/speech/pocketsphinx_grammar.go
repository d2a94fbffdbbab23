package speech

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
)

// Hint limits: Twilio's <Gather hints> allows some hundreds of phrases.
const (
	maxHints      = 500
	maxHintWords  = 10
	maxHintLength = 100 // bytes
)

// digitWords spells single digits, which the dictionary has as words.
var digitWords = [...]string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}

// hintWords splits a hint into lower-case dictionary-style words ("Press
// 1" -> press one), or returns nil if it holds something a grammar cannot
// say.
func hintWords(hint string) []string {
	if len(hint) > maxHintLength {
		return nil
	}
	words := strings.FieldsFunc(strings.ToLower(hint), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	})
	if len(words) == 0 || len(words) > maxHintWords {
		return nil
	}
	for i, w := range words {
		if len(w) == 1 && w[0] >= '0' && w[0] <= '9' {
			words[i] = digitWords[w[0]-'0']
			continue
		}
		// JSGF tokens and the dictionary are plain ASCII here; a word
		// outside that is not in the dictionary anyway.
		for _, r := range w {
			if (r < 'a' || r > 'z') && r != '\'' {
				return nil
			}
		}
	}
	return words
}

// writeGrammar writes a JSGF grammar whose sentences are the hints, and a
// dictionary holding just their words (the program loads that in a blink
// where the whole one takes a while). Hints with a word the dictionary
// lacks are left out; if none is left the stream uses the language model.
func (r *psRun) writeGrammar(hints []string) error {
	if len(hints) > maxHints {
		return fmt.Errorf("speech: %d hints; the limit is %d", len(hints), maxHints)
	}
	var phrases [][]string
	need := map[string]bool{}
	for _, h := range hints {
		if w := hintWords(h); w != nil {
			phrases = append(phrases, w)
			for _, x := range w {
				need[x] = true
			}
		}
	}
	entries, err := dictEntries(r.p.model.Dict, need)
	if err != nil {
		return err
	}
	var alts []string
	var missing []string
	for _, ph := range phrases {
		ok := true
		for _, w := range ph {
			if _, found := entries[w]; !found {
				ok = false
				missing = append(missing, w)
			}
		}
		if alt := strings.Join(ph, " "); ok && !slices.Contains(alts, alt) {
			alts = append(alts, alt)
		}
	}
	if len(missing) > 0 {
		r.p.log.Info("pocketsphinx: hint words not in the dictionary left out", "words", missing)
	}
	if len(alts) == 0 {
		r.p.log.Warn("pocketsphinx: no usable hints; using the language model", "error", errNoHints)
		return nil
	}
	var dict strings.Builder
	for _, lines := range entries {
		for _, l := range lines {
			dict.WriteString(l)
			dict.WriteByte('\n')
		}
	}
	gram := "#JSGF V1.0;\ngrammar hints;\npublic <hint> = " + strings.Join(alts, " | ") + ";\n"
	r.grammar, r.dict = filepath.Join(r.dir, "hints.gram"), filepath.Join(r.dir, "hints.dict")
	if err := os.WriteFile(r.grammar, []byte(gram), 0o600); err != nil {
		return fmt.Errorf("speech: pocketsphinx grammar: %w", err)
	}
	if err := os.WriteFile(r.dict, []byte(dict.String()), 0o600); err != nil {
		return fmt.Errorf("speech: pocketsphinx grammar: %w", err)
	}
	return nil
}

// dictEntries returns the dictionary lines (alternative pronunciations
// too: "one(2) HH W AH N") of the words in need.
func dictEntries(path string, need map[string]bool) (map[string][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPocketsphinxModelNotFound, err)
	}
	defer func() { _ = f.Close() }()
	found := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		i := strings.IndexAny(line, " \t")
		if i <= 0 {
			continue
		}
		word, _, _ := strings.Cut(line[:i], "(")
		if need[word] {
			found[word] = append(found[word], line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("speech: pocketsphinx dictionary %s: %w", path, err)
	}
	return found, nil
}
