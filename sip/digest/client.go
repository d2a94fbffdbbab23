package digest

import (
	"fmt"
	"strings"
	"sync"

	icholy "github.com/icholy/digest"
)

// Choose parses the WWW-Authenticate or Proxy-Authenticate values of one
// response and returns the strongest challenge this package can answer:
// SHA-512-256, then SHA-256, then MD5, the first of equals winning.
//
// RFC 8760 s.2.4 says a client SHOULD take the topmost challenge it
// supports "unless a local policy dictates otherwise"; this is such a
// policy, because challenges are not integrity-protected and s.3 of the
// same RFC warns that an on-path attacker could reorder them to force
// MD5. Challenges in other schemes, with -sess or unknown algorithms,
// without a nonce, or offering qop without "auth" are skipped. The result
// lists qop "auth" only (or nothing), so [icholy.Digest] never picks
// auth-int, which would need the body.
func Choose(values []string) (*icholy.Challenge, error) {
	var best *icholy.Challenge
	bestStrength := 0
	for _, v := range values {
		c, err := icholy.ParseChallenge(strings.TrimLeft(v, " \t"))
		if err != nil || c.Nonce == "" {
			continue
		}
		alg, ok := parseAlgorithm(c.Algorithm)
		if !ok {
			continue
		}
		if c.QOP, ok = onlyAuth(c.QOP); !ok {
			continue
		}
		if n := alg.strength(); n > bestStrength {
			best, bestStrength = c, n
		}
	}
	if best == nil {
		return nil, ErrNoChallenge
	}
	return best, nil
}

// onlyAuth reduces a qop list to "auth". ok is false if qop was offered
// without "auth". icholy/digest splits qop="auth, auth-int" on commas
// only, so tokens are trimmed here.
func onlyAuth(qop []string) ([]string, bool) {
	if len(qop) == 0 {
		return nil, true
	}
	for _, q := range qop {
		if strings.EqualFold(strings.TrimSpace(q), "auth") {
			return []string{"auth"}, true
		}
	}
	return nil, false
}

// Client answers digest challenges for one account. It keeps the last
// challenge and reuses its nonce with an increasing nonce count
// (RFC 7616 s.3.4), so a series of requests such as registration
// refreshes needs no new round trip until the server sends a new
// challenge. It is safe for concurrent use.
//
// The caller moves the headers: challenge values from WWW-Authenticate
// (401) or Proxy-Authenticate (407), and the answer into Authorization or
// Proxy-Authorization respectively.
type Client struct {
	username string
	password string

	mu   sync.Mutex
	chal *icholy.Challenge
	nc   int
}

// NewClient returns a Client for the user name to authenticate as (which
// may differ from the user part of the AOR) and its password.
func NewClient(username, password string) *Client {
	return &Client{username: username, password: password}
}

// Username returns the user name the client authenticates as.
func (c *Client) Username() string { return c.username }

// Challenged takes the challenge values of a 401 or 407 response and
// makes the strongest one current, with its nonce count reset. stale
// reports stale=true on it: the server accepted the password but not the
// nonce, so retry at once without counting a failure (RFC 7616 s.3.3).
// Any other challenge in answer to credentials means they were refused.
func (c *Client) Challenged(values []string) (stale bool, err error) {
	chal, err := Choose(values)
	if err != nil {
		return false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.chal, c.nc = chal, 0
	return chal.Stale, nil
}

// Authorization returns the credentials for a request under the current
// challenge, using the next nonce count. It fails with
// [ErrNotChallenged] before the first challenge.
func (c *Client) Authorization(method, uri string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.chal == nil {
		return "", ErrNotChallenged
	}
	c.nc++
	cred, err := icholy.Digest(c.chal, icholy.Options{
		Method:   method,
		URI:      uri,
		Username: c.username,
		Password: c.password,
		Count:    c.nc,
	})
	if err != nil {
		return "", fmt.Errorf("digest: answering %s challenge: %w", c.chal.Algorithm, err)
	}
	return cred.String(), nil
}
