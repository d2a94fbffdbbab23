package sip

import (
	"errors"
	"strings"

	"github.com/emiago/sipgo/sip"
)

var errMalformed = errors.New("malformed request")

// validateRequest checks what RFC 3261 s.8.2 asks a UAS to check before it
// acts on a request, and returns the response to send if it fails.
func validateRequest(req *sip.Request) *StatusError {
	// sipgo parses any SIP/x.y request line; sipagent speaks only 2.0
	// (RFC 3261 s.7.1, s.21.5.7).
	if !strings.EqualFold(req.SipVersion, "SIP/2.0") {
		return statusErr(505, "Version Not Supported", errMalformed)
	}
	if req.From() == nil || req.To() == nil || req.CallID() == nil || req.CSeq() == nil || req.Via() == nil {
		return statusErr(400, "Missing Mandatory Header", errMalformed)
	}
	if req.CSeq().MethodName != req.Method {
		return statusErr(400, "CSeq Method Mismatch", errMalformed)
	}
	if mf := req.MaxForwards(); mf != nil && mf.Val() == 0 {
		return statusErr(483, "Too Many Hops", errMalformed)
	}
	if req.IsInvite() && req.Contact() == nil {
		return statusErr(400, "Missing Contact", errMalformed)
	}
	// s.8.2.2.3: sipagent supports no extensions, so any option tag in
	// Require is unsupported.
	var unsupported []string
	for _, h := range req.GetHeaders("Require") {
		for _, tag := range strings.Split(h.Value(), ",") {
			if tag = strings.TrimSpace(tag); tag != "" {
				unsupported = append(unsupported, tag)
			}
		}
	}
	if len(unsupported) > 0 {
		return statusErr(420, "Bad Extension", errMalformed,
			sip.NewHeader("Unsupported", strings.Join(unsupported, ", ")))
	}
	return nil
}
