package transfer

import (
	"fmt"
	"strings"
)

// TargetError is a target URI ParseTarget refused.
type TargetError struct {
	URI    string // as given, with any password replaced by ***
	Reason string // what is wrong, e.g. "transport \"ws\": want udp, tcp or tls"
}

// Error reads like `transfer: target "sip:a@b;transport=ws": transport
// "ws": want udp, tcp or tls`.
func (e *TargetError) Error() string {
	return "transfer: target " + quoteShort(e.URI) + ": " + e.Reason
}

// TwiMLError is a mistake in a TwiML document: malformed XML, or markup
// that <Dial><Sip> and <Refer><Sip> do not have or sipagent does not
// support.
type TwiMLError struct {
	Line      int    // line of the element in the document, 0 if unknown
	Element   string // e.g. "Dial"; "" for the document as a whole
	Attribute string // the attribute at fault, "" if not one
	Value     string // the attribute's value or the element's text, if at fault
	Reason    string // what is wrong; may be empty when Err says it
	Err       error  // the underlying error (XML syntax, *TargetError), or nil
}

// Error reads like `transfer: TwiML line 3: <Dial timeout="soon">: not a
// whole number of seconds`.
func (e *TwiMLError) Error() string {
	var b strings.Builder
	b.WriteString("transfer: TwiML")
	if e.Line > 0 {
		fmt.Fprintf(&b, " line %d", e.Line)
	}
	if e.Element != "" {
		b.WriteString(": <")
		b.WriteString(e.Element)
		if e.Attribute != "" {
			fmt.Fprintf(&b, " %s=%s", e.Attribute, quoteShort(e.Value))
		}
		b.WriteByte('>')
		if e.Attribute == "" && e.Value != "" {
			b.WriteString(quoteShort(e.Value))
		}
	}
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "transfer: "))
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *TwiMLError) Unwrap() error { return e.Err }

// UnsupportedVerbError is a TwiML verb other than <Dial> and <Refer>:
// correct TwiML, but not forwarding, so not this parser's job. The TwiML
// agent handles it. ParseTwiML returns it only for a document that is
// otherwise sound.
type UnsupportedVerbError struct {
	Verb string // e.g. "Say"
	Line int    // 0 if unknown
}

// Error reads like `transfer: TwiML line 2: <Say> is not a forwarding
// verb`.
func (e *UnsupportedVerbError) Error() string {
	line := ""
	if e.Line > 0 {
		line = fmt.Sprintf(" line %d", e.Line)
	}
	return fmt.Sprintf("transfer: TwiML%s: <%s> is not a forwarding verb (only <Dial><Sip> and <Refer><Sip> are)", line, e.Verb)
}

// DeniedError is a target the allow-list refuses.
type DeniedError struct {
	Target string // the target as Target.String gives it
	// Reason is why the target could not even be compared with the
	// allow-list (it is not a valid target), or nil when it matched no
	// pattern.
	Reason error
}

// Error reads like `transfer: sip:sales@evil.com is not in
// transfer.allow`.
func (e *DeniedError) Error() string {
	if e.Reason != nil {
		return fmt.Sprintf("transfer: %s refused: %v", quoteShort(e.Target), e.Reason)
	}
	return fmt.Sprintf("transfer: %s is not in transfer.allow", e.Target)
}

// Unwrap returns the Reason.
func (e *DeniedError) Unwrap() error { return e.Reason }
