package digest

import "errors"

// Errors returned by [NewServer] and the client helpers.
var (
	ErrRealm         = errors.New("digest: realm must be non-empty printable ASCII")
	ErrAlgorithm     = errors.New("digest: unsupported algorithm")
	ErrOption        = errors.New("digest: invalid option")
	ErrNoChallenge   = errors.New("digest: no challenge this package can answer")
	ErrNotChallenged = errors.New("digest: no challenge received yet")
)

// Reasons a [Server] check did not succeed. They are for logs only, and
// never leave the package except as [Result.Reason] text: a caller that
// could branch on errUnknownUser versus errWrongResponse could leak which
// users exist.
var (
	errMalformed     = errors.New("malformed credentials")
	errRealm         = errors.New("wrong realm")
	errAlgorithm     = errors.New("algorithm not offered")
	errQOP           = errors.New("unsupported qop")
	errUnknownUser   = errors.New("unknown user")
	errNoSecret      = errors.New("no secret for this algorithm")
	errWrongResponse = errors.New("wrong response")
	errReplayedNC    = errors.New("replayed nonce count")

	// Stale reasons: the digest was right, the nonce was not usable.
	errNonceExpired   = errors.New("nonce expired")
	errNonceForeign   = errors.New("nonce not issued by this server")
	errNonceSpent     = errors.New("nonce already used without qop")
	errNonceForgotten = errors.New("nonce evicted from the replay table")
)
