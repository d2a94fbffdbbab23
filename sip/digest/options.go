package digest

import (
	"fmt"
	"time"
)

// Option configures a [Server].
type Option func(*Server) error

// WithNonceLifetime sets how long a nonce is accepted (default
// [DefaultNonceLifetime]). A correct digest on an older nonce is [Stale].
func WithNonceLifetime(d time.Duration) Option {
	return func(s *Server) error {
		if d <= 0 {
			return fmt.Errorf("%w: nonce lifetime %v", ErrOption, d)
		}
		s.lifetime = d
		return nil
	}
}

// WithAlgorithms sets the algorithms offered and accepted, most preferred
// first; [Server.Challenge] returns one header value per algorithm in this
// order (RFC 8760 s.2.3). The default is SHA-256 then MD5: SHA-256 for
// clients that have it, MD5 for the many SIP phones that do not.
func WithAlgorithms(algs ...Algorithm) Option {
	return func(s *Server) error {
		if len(algs) == 0 {
			return fmt.Errorf("%w: no algorithms", ErrOption)
		}
		for i, a := range algs {
			if a.strength() == 0 {
				return fmt.Errorf("%w: %q", ErrAlgorithm, a)
			}
			for _, b := range algs[:i] {
				if a == b {
					return fmt.Errorf("%w: %q listed twice", ErrOption, a)
				}
			}
		}
		s.algs = append([]Algorithm(nil), algs...)
		return nil
	}
}

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option {
	return func(s *Server) error {
		if now == nil {
			return fmt.Errorf("%w: nil clock", ErrOption)
		}
		s.now = now
		return nil
	}
}

// WithSecret sets the nonce signing key (at least 16 bytes) instead of a
// random one: for tests, or for several instances that must accept each
// other's nonces. Each instance keeps its own replay table, so a request
// replayed to a different instance is not caught.
func WithSecret(secret []byte) Option {
	return func(s *Server) error {
		if len(secret) < 16 {
			return fmt.Errorf("%w: secret of %d bytes, need at least 16", ErrOption, len(secret))
		}
		s.secret = append([]byte(nil), secret...)
		return nil
	}
}

// WithMaxNonces caps the replay table (default [DefaultMaxNonces]). Each
// entry is a few dozen bytes. Size it above the number of successful
// authentications expected within one nonce lifetime; beyond that the
// oldest entries are evicted and the affected clients get stale=true.
func WithMaxNonces(n int) Option {
	return func(s *Server) error {
		if n <= 0 {
			return fmt.Errorf("%w: max nonces %d", ErrOption, n)
		}
		s.maxNonces = n
		return nil
	}
}
