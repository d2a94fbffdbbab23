package api

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Error is the body of every refusal, as Twilio writes it:
// {"code":21205,"message":"...","more_info":"","status":400}.
type Error struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

func (e *Error) Error() string { return fmt.Sprintf("api: %d %s", e.Code, e.Message) }

// Twilio's error codes for the refusals the API makes. The 20xxx ones
// are Twilio's HTTP-level codes, 20000 plus the status.
const (
	codeAuth            = 20003 // authentication failed
	codeNotFound        = 20404 // no such resource
	codeMethod          = 20004 // method not allowed
	codeUnavailable     = 20503 // sipagent is shutting down, or at its call limit
	codeCallsResource   = 21200 // a parameter of the Calls resource is wrong
	codeNoTo            = 21201 // no To
	codeBadURL          = 21205 // Url is not an absolute http(s) URL
	codeBadTo           = 21211 // To is not a destination sipagent can call
	codeBadFrom         = 21212 // From is not a caller ID sipagent can send
	codeNotPermitted    = 21215 // To is outside the allow-list
	codeCallState       = 21220 // the call has ended
	codeTwiMLParse      = 12100 // Twiml is not a document sipagent can run
	codeRequestTooLarge = 20413 // the body is over maxBody
)

func errorf(status, code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Status: status}
}

func badRequest(code int, format string, args ...any) *Error {
	return errorf(http.StatusBadRequest, code, format, args...)
}

func notFound(format string, args ...any) *Error {
	return errorf(http.StatusNotFound, codeNotFound, format, args...)
}

// writeJSON sends v with status; a client gone mid-write is its problem.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *Error) { writeJSON(w, e.Status, e) }
