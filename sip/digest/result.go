package digest

// Outcome is the verdict of [Server.Check].
type Outcome int

// Outcomes. The zero value is Denied.
const (
	// Denied: answer with a fresh challenge (or 403). Unknown users,
	// wrong passwords and malformed credentials all look the same.
	Denied Outcome = iota
	// OK: the request is authenticated as Result.Username.
	OK
	// Stale: the digest was right but the nonce is expired, spent or not
	// ours; challenge again with stale=true. Not a failed attempt.
	Stale
)

func (o Outcome) String() string {
	switch o {
	case OK:
		return "ok"
	case Stale:
		return "stale"
	default:
		return "denied"
	}
}

// Result is what [Server.Check] found. Its exported fields are identical
// for every Denied result, so a response built from them alone cannot
// tell an unknown user from a wrong password.
type Result struct {
	Outcome Outcome
	// Username is the authenticated user, set only for OK and Stale.
	Username string
	reason   error
}

// Reason says why the check was not OK, for logs only: it names unknown
// users and wrong passwords, so it must never reach the caller.
func (r Result) Reason() string {
	if r.reason == nil {
		return ""
	}
	return r.reason.Error()
}

func denied(err error) Result { return Result{Outcome: Denied, reason: err} }
