package transfer

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Instruction is one forwarding verb of a TwiML document.
type Instruction struct {
	// Verb is "Dial" or "Refer".
	Verb string
	// Target is the <Sip> URI with the verb's attributes applied. Its
	// Mode is ModeBridge for <Dial> and ModeRefer for <Refer>.
	Target Target
	// Action is the URL to request with the outcome (DialCallStatus or
	// ReferCallStatus), "" for none; Method is GET or POST (the default).
	Action string
	Method string
}

// MaxTwiMLSize bounds the document ParseTwiML reads.
const MaxTwiMLSize = 64 << 10

// maxTwiMLDepth bounds element nesting, in verbs ParseTwiML skips too.
const maxTwiMLDepth = 32

// otherVerbs are the TwiML verbs that are not forwarding. ParseTwiML
// reports them as *UnsupportedVerbError; any other element is a mistake.
var otherVerbs = []string{
	"Connect", "Echo", "Enqueue", "Gather", "Hangup", "Leave", "Message",
	"Pause", "Pay", "Play", "Record", "Redirect", "Reject", "Say", "Sms",
	"Start", "Stop",
}

// ParseTwiML reads a TwiML document's forwarding instructions, in order:
//
//	<Response>
//	  <Dial timeout="20" action="/after-dial"><Sip username="u" password="p">sip:sales@example.com;region=ie1</Sip></Dial>
//	  <Refer action="/after-refer"><Sip>sip:desk@pbx.example.com</Sip></Refer>
//	</Response>
//
// Parsing is strict. Malformed XML, unknown elements and attributes,
// attributes sipagent does not support (recording, status callbacks,
// screening URLs) and bad values are *TwiMLError naming the element,
// attribute, value and line. A <Dial> must hold exactly one <Sip> or
// <Client> (a user registered to sipagent, by name); a number,
// <Conference> and the like are not supported. The <Sip> text is read by
// ParseTarget.
//
// Other verbs (<Say>, <Gather>, <Hangup>...) are TwiML this parser does
// not run: if the document is otherwise sound, ParseTwiML returns an
// *UnsupportedVerbError for the first, for the TwiML agent to handle.
// The document is at most MaxTwiMLSize bytes, UTF-8, without DOCTYPE.
func ParseTwiML(doc []byte) ([]Instruction, error) {
	if len(doc) > MaxTwiMLSize {
		return nil, &TwiMLError{Reason: fmt.Sprintf("document is %d bytes; the limit is %d", len(doc), MaxTwiMLSize)}
	}
	r := &twimlReader{d: xml.NewDecoder(bytes.NewReader(doc))}
	r.d.Strict = true
	root, err := r.outside(true)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return nil, &TwiMLError{Reason: "no <Response> element"}
	}
	if err := r.checkName(*root); err != nil {
		return nil, err
	}
	if root.Name.Local != "Response" {
		return nil, &TwiMLError{Line: r.line(), Element: root.Name.Local, Reason: "the document must be a <Response>"}
	}
	if len(root.Attr) > 0 {
		a := root.Attr[0]
		return nil, r.attrErr("Response", a, "unknown attribute")
	}
	instrs, unsupported, err := r.response()
	if err != nil {
		return nil, err
	}
	if extra, err := r.outside(false); err != nil {
		return nil, err
	} else if extra != nil {
		return nil, &TwiMLError{Line: r.line(), Element: extra.Name.Local, Reason: "element after </Response>"}
	}
	if unsupported != nil {
		return nil, unsupported
	}
	return instrs, nil
}

// twimlReader walks a document's tokens.
type twimlReader struct {
	d *xml.Decoder
}

func (r *twimlReader) line() int {
	line, _ := r.d.InputPos()
	return line
}

// token returns the next token; malformed XML and the end of the
// document inside an element are *TwiMLError.
func (r *twimlReader) token() (xml.Token, error) {
	tok, err := r.d.Token()
	if err == nil {
		return tok, nil
	}
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return nil, &TwiMLError{Line: se.Line, Reason: "malformed XML: " + se.Msg}
	}
	if err == io.EOF {
		return nil, io.EOF
	}
	return nil, &TwiMLError{Line: r.line(), Reason: "malformed XML", Err: err}
}

// outside reads the prolog (before is true) or the epilogue: the XML
// declaration, comments and white space. It returns the first element,
// or nil at the end of the document.
func (r *twimlReader) outside(before bool) (*xml.StartElement, error) {
	for {
		tok, err := r.token()
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			return &tok, nil
		case xml.CharData:
			if !isXMLSpace(tok) {
				return nil, &TwiMLError{Line: r.line(), Value: string(tok), Reason: "text outside <Response>"}
			}
		case xml.ProcInst:
			if !before || tok.Target != "xml" {
				return nil, &TwiMLError{Line: r.line(), Reason: fmt.Sprintf("processing instruction <?%s?> is not allowed", tok.Target)}
			}
		case xml.Directive:
			return nil, &TwiMLError{Line: r.line(), Reason: "DOCTYPE and other <!...> directives are not allowed"}
		}
	}
}

// response reads the verbs of <Response> up to </Response>: forwarding
// instructions, and the first other verb if any.
func (r *twimlReader) response() ([]Instruction, *UnsupportedVerbError, error) {
	var instrs []Instruction
	var unsupported *UnsupportedVerbError
	for {
		tok, err := r.inside("Response")
		if err != nil {
			return nil, nil, err
		}
		switch tok := tok.(type) {
		case xml.EndElement:
			return instrs, unsupported, nil
		case xml.StartElement:
			if err := r.checkName(tok); err != nil {
				return nil, nil, err
			}
			line := r.line()
			switch name := tok.Name.Local; {
			case name == "Dial":
				in, err := r.dial(tok)
				if err != nil {
					return nil, nil, err
				}
				instrs = append(instrs, in)
			case name == "Refer":
				in, err := r.refer(tok)
				if err != nil {
					return nil, nil, err
				}
				instrs = append(instrs, in)
			case isOtherVerb(name):
				if unsupported == nil {
					unsupported = &UnsupportedVerbError{Verb: name, Line: line}
				}
				if err := r.skip(2); err != nil {
					return nil, nil, err
				}
			default:
				return nil, nil, &TwiMLError{Line: line, Element: name, Reason: "unknown element in <Response>"}
			}
		case xml.CharData:
			if !isXMLSpace(tok) {
				return nil, nil, &TwiMLError{Line: r.line(), Element: "Response", Value: string(tok), Reason: "text between verbs"}
			}
		}
	}
}

// inside returns the next token within the element named parent that is
// not a comment, refusing processing instructions and directives.
func (r *twimlReader) inside(parent string) (xml.Token, error) {
	for {
		tok, err := r.token()
		if err == io.EOF {
			return nil, &TwiMLError{Line: r.line(), Element: parent, Reason: "document ends inside the element"}
		}
		if err != nil {
			return nil, err
		}
		switch tok.(type) {
		case xml.Comment:
			continue
		case xml.ProcInst, xml.Directive:
			return nil, &TwiMLError{Line: r.line(), Element: parent, Reason: "processing instructions and directives are not allowed"}
		}
		return tok, nil
	}
}

// skip reads past the element just started, at nesting depth depth,
// without looking at its content beyond well-formedness.
func (r *twimlReader) skip(depth int) error {
	for open := 1; open > 0; {
		tok, err := r.token()
		if err == io.EOF {
			return &TwiMLError{Line: r.line(), Reason: "document ends inside an element"}
		}
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			open++
			if depth+open > maxTwiMLDepth {
				return &TwiMLError{Line: r.line(), Reason: fmt.Sprintf("elements nested deeper than %d", maxTwiMLDepth)}
			}
		case xml.EndElement:
			open--
		}
	}
	return nil
}

// checkName refuses namespaced elements: TwiML has none.
func (r *twimlReader) checkName(se xml.StartElement) error {
	if se.Name.Space != "" {
		return &TwiMLError{Line: r.line(), Element: se.Name.Local, Reason: fmt.Sprintf("namespace %q is not TwiML", se.Name.Space)}
	}
	return nil
}

func (r *twimlReader) attrErr(element string, a xml.Attr, reason string) *TwiMLError {
	return &TwiMLError{Line: r.line(), Element: element, Attribute: attrName(a), Value: a.Value, Reason: reason}
}

func attrName(a xml.Attr) string {
	if a.Name.Space != "" {
		return a.Name.Space + ":" + a.Name.Local
	}
	return a.Name.Local
}

func isOtherVerb(name string) bool { return slices.Contains(otherVerbs, name) }

// isXMLSpace reports text of XML white space only (XML 1.0 s.2.3).
func isXMLSpace(b []byte) bool {
	return len(bytes.Trim(b, " \t\r\n")) == 0
}

// xmlTrim trims XML white space.
func xmlTrim(s string) string { return strings.Trim(s, " \t\r\n") }
