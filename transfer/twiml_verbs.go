package transfer

import (
	"encoding/xml"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// dialNouns are the nouns <Dial> has besides <Sip> and <Client>: correct
// TwiML, but sipagent forwards to SIP URIs and its registered users only.
var dialNouns = []string{"Application", "Conference", "Number", "Queue", "Sim", "WhatsApp"}

// Attributes TwiML has that sipagent does not support: each would ask
// for something (recording, callbacks, screening) that would silently
// not happen.
var (
	dialUnsupported = []string{
		"recordingStatusCallback", "recordingStatusCallbackMethod", "recordingStatusCallbackEvent",
		"recordingTrack", "ringTone", "referUrl", "referMethod", "sequential",
	}
	sipUnsupported = []string{
		"url", "method", "statusCallback", "statusCallbackEvent", "statusCallbackMethod",
		"machineDetection", "machineDetectionTimeout", "machineDetectionSpeechThreshold",
		"machineDetectionSpeechEndThreshold", "machineDetectionSilenceTimeout",
		"amdStatusCallback", "amdStatusCallbackMethod",
	}
)

// dialAttrs are <Dial>'s attributes that shape the target.
type dialAttrs struct {
	timeout, timeLimit   time.Duration
	callerID             string
	answerOnBridge, star bool
}

// dial reads a <Dial> holding one <Sip> or <Client>.
func (r *twimlReader) dial(se xml.StartElement) (Instruction, error) {
	in := Instruction{Verb: "Dial", Method: "POST"}
	da := dialAttrs{timeout: DefaultTimeout, timeLimit: DefaultTimeLimit}
	err := r.attrs("Dial", se, func(a xml.Attr) error {
		v := a.Value
		var err error
		switch a.Name.Local {
		case "action":
			in.Action, err = checkAction(v)
		case "method":
			in.Method, err = checkMethod(v)
		case "timeout":
			da.timeout, err = parseSeconds(v, MaxTimeout)
		case "timeLimit":
			da.timeLimit, err = parseSeconds(v, MaxTimeLimit)
		case "callerId":
			if v == "" {
				return fmt.Errorf("empty")
			}
			err = checkCallerID(v)
			da.callerID = v
		case "answerOnBridge":
			da.answerOnBridge, err = parseBool(v)
		case "hangupOnStar":
			da.star, err = parseBool(v)
		case "record":
			if v != "do-not-record" {
				return fmt.Errorf(`not supported: sipagent does not record calls (only "do-not-record")`)
			}
		case "trim":
			// Applies to recordings, of which there are none.
			if v != "trim-silence" && v != "do-not-trim" {
				return fmt.Errorf("want trim-silence or do-not-trim")
			}
		default:
			return unknownAttr(a, dialUnsupported)
		}
		return err
	})
	if err != nil {
		return Instruction{}, err
	}
	t, err := r.oneSip("Dial", true)
	if err != nil {
		return Instruction{}, err
	}
	t.Timeout, t.TimeLimit, t.CallerID = da.timeout, da.timeLimit, da.callerID
	t.AnswerOnBridge, t.HangupOnStar = da.answerOnBridge, da.star
	t.Mode = ModeBridge
	in.Target = t
	return in, nil
}

// refer reads a <Refer> holding one <Sip>.
func (r *twimlReader) refer(se xml.StartElement) (Instruction, error) {
	in := Instruction{Verb: "Refer", Method: "POST"}
	err := r.attrs("Refer", se, func(a xml.Attr) error {
		var err error
		switch a.Name.Local {
		case "action":
			in.Action, err = checkAction(a.Value)
		case "method":
			in.Method, err = checkMethod(a.Value)
		default:
			return unknownAttr(a, nil)
		}
		return err
	})
	if err != nil {
		return Instruction{}, err
	}
	if in.Target, err = r.oneSip("Refer", false); err != nil {
		return Instruction{}, err
	}
	in.Target.Mode = ModeRefer
	return in, nil
}

// attrs hands each attribute of se to fn, refusing namespaced and
// repeated ones (encoding/xml lets both through), and turns fn's error
// into a *TwiMLError naming the attribute.
func (r *twimlReader) attrs(element string, se xml.StartElement, fn func(xml.Attr) error) error {
	for i, a := range se.Attr {
		if a.Name.Space != "" || a.Name.Local == "xmlns" {
			return r.attrErr(element, a, "unknown attribute")
		}
		for _, b := range se.Attr[:i] {
			if b.Name == a.Name {
				return r.attrErr(element, a, "attribute given twice")
			}
		}
		if err := fn(a); err != nil {
			return r.attrErr(element, a, err.Error())
		}
	}
	return nil
}

// oneSip reads the content of <Dial> or <Refer>: exactly one <Sip> (or,
// in <Dial>, one <Client>), and white space and comments.
func (r *twimlReader) oneSip(parent string, credentials bool) (Target, error) {
	var t Target
	found := false
	for {
		tok, err := r.inside(parent)
		if err != nil {
			return Target{}, err
		}
		switch tok := tok.(type) {
		case xml.EndElement:
			if !found {
				want := "<Sip>"
				if parent == "Dial" {
					want = "<Sip> or <Client>"
				}
				return Target{}, &TwiMLError{Line: r.line(), Element: parent, Reason: "no " + want + " inside"}
			}
			return t, nil
		case xml.CharData:
			if !isXMLSpace(tok) {
				return Target{}, &TwiMLError{Line: r.line(), Element: parent, Value: xmlTrim(string(tok)),
					Reason: "a number or name as text is not supported; put a SIP URI in <Sip>"}
			}
		case xml.StartElement:
			if err := r.checkName(tok); err != nil {
				return Target{}, err
			}
			switch name := tok.Name.Local; {
			case (name == "Sip" || name == "Client" && parent == "Dial") && found:
				return Target{}, &TwiMLError{Line: r.line(), Element: parent, Reason: "more than one target; one per verb"}
			case name == "Sip":
				if t, err = r.sip(tok, parent, credentials); err != nil {
					return Target{}, err
				}
				found = true
			case name == "Client" && parent == "Dial":
				if t, err = r.client(tok); err != nil {
					return Target{}, err
				}
				found = true
			case name == "Client":
				return Target{}, &TwiMLError{Line: r.line(), Element: name, Reason: "not supported in <Refer>: a registered user is reached with <Dial>"}
			case parent == "Dial" && slices.Contains(dialNouns, name):
				return Target{}, &TwiMLError{Line: r.line(), Element: name, Reason: "not supported in <Dial>; only <Sip> and <Client>"}
			default:
				return Target{}, &TwiMLError{Line: r.line(), Element: name, Reason: fmt.Sprintf("unknown element in <%s>", parent)}
			}
		}
	}
}

// sip reads <Sip>: the credentials for the target's challenge (in <Dial>
// only) and the URI as its text.
func (r *twimlReader) sip(se xml.StartElement, parent string, credentials bool) (Target, error) {
	line := r.line()
	var username, password string
	err := r.attrs("Sip", se, func(a xml.Attr) error {
		switch a.Name.Local {
		case "username", "password":
			if !credentials {
				return fmt.Errorf("not supported in <%s>: the caller, not sipagent, calls the target", parent)
			}
			if a.Value == "" {
				return fmt.Errorf("empty")
			}
			if a.Name.Local == "username" {
				username = a.Value
			} else {
				password = a.Value
			}
		default:
			return unknownAttr(a, sipUnsupported)
		}
		return nil
	})
	if err != nil {
		return Target{}, err
	}
	uri, err := r.text("Sip", "no elements are allowed inside <Sip>")
	if err != nil {
		return Target{}, err
	}
	if uri == "" {
		return Target{}, &TwiMLError{Line: line, Element: "Sip", Reason: "no URI"}
	}
	t, err := ParseTarget(uri)
	if err != nil {
		return Target{}, &TwiMLError{Line: line, Element: "Sip", Err: err}
	}
	if err := checkCredentials(username, password); err != nil {
		return Target{}, &TwiMLError{Line: line, Element: "Sip", Reason: err.Error()}
	}
	t.Username, t.Password = username, password
	return t, nil
}

// client reads <Client>NAME</Client>: a user registered to sipagent, by
// the name she registers with. Twilio's <Identity> and <Parameter>
// children belong to its Voice SDK and are not supported.
func (r *twimlReader) client(se xml.StartElement) (Target, error) {
	line := r.line()
	if err := r.attrs("Client", se, func(a xml.Attr) error { return unknownAttr(a, sipUnsupported) }); err != nil {
		return Target{}, err
	}
	name, err := r.text("Client", "not supported inside <Client>; give the user name as its text")
	if err != nil {
		return Target{}, err
	}
	if err := checkClientName(name); err != nil {
		return Target{}, &TwiMLError{Line: line, Element: "Client", Value: name, Reason: err.Error()}
	}
	return Target{Client: name}, nil
}

// text reads the character data of element up to its end tag, trimmed
// of XML white space. A child element is an error, for the reason given.
func (r *twimlReader) text(element, childReason string) (string, error) {
	var b strings.Builder
	for {
		tok, err := r.inside(element)
		if err != nil {
			return "", err
		}
		switch tok := tok.(type) {
		case xml.CharData:
			b.Write(tok)
		case xml.StartElement:
			return "", &TwiMLError{Line: r.line(), Element: tok.Name.Local, Reason: childReason}
		case xml.EndElement:
			return xmlTrim(b.String()), nil
		}
	}
}

// unknownAttr says whether an attribute is TwiML sipagent does not
// support or not TwiML at all.
func unknownAttr(a xml.Attr, unsupported []string) error {
	if slices.Contains(unsupported, a.Name.Local) {
		return fmt.Errorf("not supported")
	}
	return fmt.Errorf("unknown attribute")
}

// parseSeconds reads a whole number of seconds from 1 to limit.
func parseSeconds(v string, limit time.Duration) (time.Duration, error) {
	n := 0
	for i := 0; i < len(v); i++ {
		if !isDigit(v[i]) {
			return 0, fmt.Errorf("not a whole number of seconds")
		}
		n = n*10 + int(v[i]-'0')
		if time.Duration(n)*time.Second > limit {
			return 0, fmt.Errorf("more than %d seconds", int(limit/time.Second))
		}
	}
	if v == "" || n == 0 {
		return 0, fmt.Errorf("want 1 to %d seconds", int(limit/time.Second))
	}
	return time.Duration(n) * time.Second, nil
}

func parseBool(v string) (bool, error) {
	switch {
	case strings.EqualFold(v, "true"):
		return true, nil
	case strings.EqualFold(v, "false"):
		return false, nil
	}
	return false, fmt.Errorf("want true or false")
}

func checkMethod(v string) (string, error) {
	m := strings.ToUpper(v)
	if m != "GET" && m != "POST" {
		return "", fmt.Errorf("want GET or POST")
	}
	return m, nil
}

// checkAction checks an action URL: absolute http(s) or relative to the
// document's URL, as Twilio allows.
func checkAction(v string) (string, error) {
	if v == "" {
		return "", fmt.Errorf("empty URL")
	}
	u, err := url.Parse(v)
	if err != nil {
		return "", fmt.Errorf("not a URL")
	}
	if u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("scheme %q: want http, https or a relative URL", u.Scheme)
	}
	for i := 0; i < len(v); i++ {
		if isCtl(v[i]) || v[i] == ' ' {
			return "", fmt.Errorf("spaces and control characters must be escaped")
		}
	}
	return v, nil
}
