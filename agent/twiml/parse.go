package twiml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Limits on what a document may ask for.
const (
	// MaxDocumentSize bounds a document, as Twilio's 64 KB does.
	MaxDocumentSize = 64 << 10
	// MaxLoop bounds Say and Play loop counts; loop="0" means this many.
	MaxLoop = 100
	// MaxPause bounds a Pause.
	MaxPause = 10 * time.Minute
	// maxDepth bounds element nesting.
	maxDepth = 8
	// MaxHints bounds a Gather's hints, as Twilio's do.
	MaxHints = 500
	// maxHintLength bounds one hint, in bytes.
	maxHintLength = 100
	// maxSpeechTimeout bounds speechTimeout and maxSpeechTime.
	maxSpeechTimeout = 60 * time.Second
)

// Error is a document sipagent cannot run: malformed XML, an unknown
// verb, or a bad value, with the line it is on.
type Error struct {
	Line   int
	Verb   string
	Reason string
}

func (e *Error) Error() string {
	s := "twiml: "
	if e.Verb != "" {
		s += "<" + e.Verb + ">: "
	}
	s += e.Reason
	if e.Line > 0 {
		s += fmt.Sprintf(" (line %d)", e.Line)
	}
	return s
}

// node is an element of the document, with its place in the source.
type node struct {
	name     string
	attrs    map[string]string
	text     string
	children []*node
	line     int
	start    int // offset of '<'
	end      int // offset after the end tag
}

func (n *node) attr(name string) string { return n.attrs[name] }

// Parse reads a <Response> document into its verbs.
func Parse(doc []byte) ([]Verb, error) {
	if len(doc) > MaxDocumentSize {
		return nil, &Error{Reason: fmt.Sprintf("document is %d bytes; the limit is %d", len(doc), MaxDocumentSize)}
	}
	root, err := tree(doc)
	if err != nil {
		return nil, err
	}
	if root.name != "Response" {
		return nil, &Error{Line: root.line, Verb: root.name, Reason: "the document must be a <Response>"}
	}
	verbs := make([]Verb, 0, len(root.children))
	for _, n := range root.children {
		v, err := verb(doc, n)
		if err != nil {
			return nil, err
		}
		verbs = append(verbs, v)
	}
	return verbs, nil
}

// tree reads the document's single root element and everything in it.
func tree(doc []byte) (*node, error) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	var stack []*node
	var root *node
	for {
		off := int(d.InputOffset())
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			line, _ := d.InputPos()
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, &Error{Line: se.Line, Reason: "malformed XML: " + se.Msg}
			}
			return nil, &Error{Line: line, Reason: "malformed XML"}
		}
		line, _ := d.InputPos()
		switch t := tok.(type) {
		case xml.StartElement:
			if root != nil && len(stack) == 0 {
				return nil, &Error{Line: line, Verb: t.Name.Local, Reason: "element after </Response>"}
			}
			if len(stack) == maxDepth {
				return nil, &Error{Line: line, Verb: t.Name.Local, Reason: "nested too deep"}
			}
			n := &node{name: t.Name.Local, attrs: make(map[string]string, len(t.Attr)), line: line, start: off}
			for _, a := range t.Attr {
				n.attrs[a.Name.Local] = a.Value
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			n := stack[len(stack)-1]
			n.end = int(d.InputOffset())
			n.text = strings.TrimSpace(n.text)
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) > 0 {
					return nil, &Error{Line: line, Reason: "text outside <Response>"}
				}
				continue
			}
			stack[len(stack)-1].text += string(t)
		case xml.Directive:
			return nil, &Error{Line: line, Reason: "DOCTYPE and other <!...> directives are not allowed"}
		}
	}
	if root == nil {
		return nil, &Error{Reason: "no <Response> element"}
	}
	return root, nil
}

// verb turns one child of <Response> into a Verb.
func verb(doc []byte, n *node) (Verb, error) {
	switch n.name {
	case "Say":
		return say(n)
	case "Play":
		return play(n)
	case "Pause":
		return pause(n)
	case "Gather":
		return gather(n)
	case "Dial", "Refer":
		return forward(doc, n)
	case "Connect":
		return connect(n)
	case "Redirect":
		return redirect(n)
	case "Hangup":
		return &Hangup{}, noChildren(n)
	case "Reject":
		r := &Reject{Reason: n.attr("reason")}
		switch r.Reason {
		case "":
			r.Reason = "rejected"
		case "rejected", "busy":
		default:
			return nil, bad(n, "reason %q: want rejected or busy", r.Reason)
		}
		return r, noChildren(n)
	}
	return nil, bad(n, "unknown or unsupported verb")
}

func say(n *node) (*Say, error) {
	if n.text == "" {
		return nil, bad(n, "nothing to say")
	}
	loop, err := loopAttr(n)
	return &Say{Text: n.text, Loop: loop}, errors.Join(err, noChildren(n))
}

func play(n *node) (*Play, error) {
	u, err := urlText(n, n.text, false)
	if err != nil {
		return nil, err
	}
	loop, err := loopAttr(n)
	return &Play{URL: u, Loop: loop}, errors.Join(err, noChildren(n))
}

func pause(n *node) (*Pause, error) {
	length := time.Second
	if v := n.attr("length"); v != "" {
		s, err := strconv.Atoi(v)
		if err != nil || s < 0 || time.Duration(s)*time.Second > MaxPause {
			return nil, bad(n, "length %q: want whole seconds up to %v", v, MaxPause)
		}
		length = time.Duration(s) * time.Second
	}
	return &Pause{Length: length}, noChildren(n)
}

func gather(n *node) (*Gather, error) {
	g := &Gather{FinishOnKey: '#', Timeout: 5 * time.Second}
	dtmf, speech, err := inputAttr(n)
	if err != nil {
		return nil, err
	}
	if v := n.attr("numDigits"); v != "" {
		d, err := strconv.Atoi(v)
		if err != nil || d < 1 || d > 64 {
			return nil, bad(n, "numDigits %q: want 1-64", v)
		}
		g.NumDigits = d
	}
	if v, ok := n.attrs["finishOnKey"]; ok {
		switch {
		case v == "":
			g.FinishOnKey = 0
		case len(v) == 1 && strings.Contains("0123456789*#", v):
			g.FinishOnKey = rune(v[0])
		default:
			return nil, bad(n, "finishOnKey %q: want one of 0-9, * and #, or empty", v)
		}
	}
	if v := n.attr("timeout"); v != "" {
		s, err := strconv.Atoi(v)
		if err != nil || s < 1 || s > 600 {
			return nil, bad(n, "timeout %q: want 1-600 seconds", v)
		}
		g.Timeout = time.Duration(s) * time.Second
	}
	if speech {
		if g.Speech, err = speechAttrs(n, g.Timeout); err != nil {
			return nil, err
		}
		g.Speech.DTMF = dtmf
	}
	if g.Action, g.Method, err = actionAttrs(n); err != nil {
		return nil, err
	}
	for _, c := range n.children {
		var v Verb
		switch c.name {
		case "Say":
			v, err = say(c)
		case "Play":
			v, err = play(c)
		case "Pause":
			v, err = pause(c)
		default:
			return nil, bad(c, "not allowed in <Gather>")
		}
		if err != nil {
			return nil, err
		}
		g.Prompts = append(g.Prompts, v)
	}
	return g, nil
}

// inputAttr reads <Gather input>: "dtmf" (the default), "speech", or
// both, space-separated in either order.
func inputAttr(n *node) (dtmf, speech bool, err error) {
	v, ok := n.attrs["input"]
	if !ok {
		return true, false, nil
	}
	for _, w := range strings.Fields(v) {
		switch w {
		case "dtmf":
			dtmf = true
		case "speech":
			speech = true
		default:
			return false, false, bad(n, "input %q: want dtmf, speech or both", v)
		}
	}
	if !dtmf && !speech {
		return false, false, bad(n, "input %q: want dtmf, speech or both", v)
	}
	return dtmf, speech, nil
}

// speechAttrs reads the attributes of a <Gather> that listens:
// speechTimeout ("auto" or whole seconds; default timeout),
// maxSpeechTime, hints (comma-separated) and language.
func speechAttrs(n *node, timeout time.Duration) (*SpeechInput, error) {
	sp := &SpeechInput{EndSilence: timeout, MaxSpeechTime: maxSpeechTimeout}
	switch v := strings.TrimSpace(n.attr("speechTimeout")); v {
	case "":
	case "auto":
		sp.EndSilence = 0
	default:
		s, err := strconv.Atoi(v)
		if err != nil || s < 1 || time.Duration(s)*time.Second > maxSpeechTimeout {
			return nil, bad(n, "speechTimeout %q: want auto or 1-%d seconds", v, int(maxSpeechTimeout/time.Second))
		}
		sp.EndSilence = time.Duration(s) * time.Second
	}
	if v := strings.TrimSpace(n.attr("maxSpeechTime")); v != "" {
		s, err := strconv.Atoi(v)
		if err != nil || s < 1 || time.Duration(s)*time.Second > maxSpeechTimeout {
			return nil, bad(n, "maxSpeechTime %q: want 1-%d seconds", v, int(maxSpeechTimeout/time.Second))
		}
		sp.MaxSpeechTime = time.Duration(s) * time.Second
	}
	for h := range strings.SplitSeq(n.attr("hints"), ",") {
		h = strings.Join(strings.Fields(h), " ")
		if h == "" {
			continue
		}
		if len(h) > maxHintLength {
			return nil, bad(n, "hint %.20q... is over %d bytes", h, maxHintLength)
		}
		if len(sp.Hints) == MaxHints {
			return nil, bad(n, "over %d hints", MaxHints)
		}
		sp.Hints = append(sp.Hints, h)
	}
	if v := n.attr("language"); v != "" {
		if !isLanguageTag(v) {
			return nil, bad(n, "language %q: want a BCP 47 tag such as en-US", v)
		}
		sp.Language = v
	}
	return sp, nil
}

// isLanguageTag accepts the shape of a BCP 47 tag: subtags of 1-8
// letters and digits, joined by '-', the first all letters.
func isLanguageTag(v string) bool {
	if len(v) > 35 {
		return false
	}
	for i, sub := range strings.Split(v, "-") {
		if len(sub) < 1 || len(sub) > 8 {
			return false
		}
		for _, r := range sub {
			letter := (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
			if !letter && (i == 0 || r < '0' || r > '9') {
				return false
			}
		}
	}
	return true
}

// forward keeps a <Dial> or <Refer> as a document of its own; the
// transfer service parses it strictly when it runs.
func forward(doc []byte, n *node) (*Forward, error) {
	action, method, err := actionAttrs(n)
	if err != nil {
		return nil, err
	}
	if len(n.children) == 0 {
		return nil, bad(n, "needs a <Sip> or <Client>")
	}
	return &Forward{Name: n.name, TwiML: "<Response>" + string(doc[n.start:n.end]) + "</Response>", Action: action, Method: method}, nil
}

func connect(n *node) (*Connect, error) {
	action, method, err := actionAttrs(n)
	if err != nil {
		return nil, err
	}
	if len(n.children) != 1 || n.children[0].name != "Stream" {
		return nil, bad(n, "needs exactly one <Stream>")
	}
	s := n.children[0]
	u, err := urlText(s, s.attr("url"), true)
	if err != nil {
		return nil, err
	}
	c := &Connect{URL: u, Action: action, Method: method}
	for _, p := range s.children {
		if p.name != "Parameter" {
			return nil, bad(p, "not allowed in <Stream>")
		}
		name := p.attr("name")
		if name == "" {
			return nil, bad(p, "needs a name")
		}
		if c.Parameters == nil {
			c.Parameters = make(map[string]string)
		}
		c.Parameters[name] = p.attr("value")
	}
	return c, nil
}

func redirect(n *node) (*Redirect, error) {
	u, err := urlText(n, n.text, false)
	if err != nil {
		return nil, err
	}
	m, err := method(n)
	return &Redirect{URL: u, Method: m}, errors.Join(err, noChildren(n))
}

func loopAttr(n *node) (int, error) {
	v := n.attr("loop")
	if v == "" {
		return 1, nil
	}
	l, err := strconv.Atoi(v)
	if err != nil || l < 0 || l > MaxLoop {
		return 0, bad(n, "loop %q: want 0-%d", v, MaxLoop)
	}
	if l == 0 {
		l = MaxLoop
	}
	return l, nil
}

func actionAttrs(n *node) (action, meth string, err error) {
	if v := n.attr("action"); v != "" {
		if action, err = urlText(n, v, false); err != nil {
			return "", "", err
		}
	}
	meth, err = method(n)
	return action, meth, err
}

func method(n *node) (string, error) {
	switch m := strings.ToUpper(n.attr("method")); m {
	case "":
		return "POST", nil
	case "GET", "POST":
		return m, nil
	}
	return "", bad(n, "method %q: want GET or POST", n.attr("method"))
}

// urlText checks a URL a document names: absolute or relative (to the
// document's own URL) http(s), or ws(s) for a stream.
func urlText(n *node, v string, ws bool) (string, error) {
	u, err := url.Parse(strings.TrimSpace(v))
	if err != nil || v == "" {
		return "", bad(n, "URL %q is not a URL", v)
	}
	switch {
	case ws && (u.Scheme == "ws" || u.Scheme == "wss") && u.Host != "":
	case !ws && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "":
	case !ws && u.Scheme == "" && u.Host == "":
	default:
		return "", bad(n, "URL %q: want %s", v, map[bool]string{true: "ws:// or wss://", false: "http://, https:// or a relative URL"}[ws])
	}
	return u.String(), nil
}

func noChildren(n *node) error {
	if len(n.children) > 0 {
		return bad(n.children[0], "not allowed in <%s>", n.name)
	}
	return nil
}

func bad(n *node, format string, args ...any) *Error {
	return &Error{Line: n.line, Verb: n.name, Reason: fmt.Sprintf(format, args...)}
}
