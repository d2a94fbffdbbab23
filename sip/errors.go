package sip

import (
	"errors"
	"fmt"

	"github.com/emiago/sipgo/sip"
)

// StatusError is a failure that knows the SIP response it should produce,
// so the answer is decided where the failure is found.
type StatusError struct {
	Code    int
	Reason  string
	Headers []sip.Header // extra headers for the response, e.g. Warning
	Err     error        // the cause, for logs; never sent
}

func (e *StatusError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %v", e.Code, e.Reason, e.Err)
	}
	return fmt.Sprintf("%d %s", e.Code, e.Reason)
}

func (e *StatusError) Unwrap() error { return e.Err }

func statusErr(code int, reason string, err error, hdrs ...sip.Header) *StatusError {
	return &StatusError{Code: code, Reason: reason, Err: err, Headers: hdrs}
}

// asStatus turns any error into the response it should produce; errors
// that do not know their status are 500s.
func asStatus(err error) *StatusError {
	var se *StatusError
	if errors.As(err, &se) {
		return se
	}
	return statusErr(500, "Server Internal Error", err)
}

// Errors of the call layer.
var (
	ErrDraining = errors.New("sip: server is shutting down")
	ErrNoRoute  = errors.New("sip: no route matches the call")
)
