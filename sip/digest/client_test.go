package digest

import (
	"errors"
	"strings"
	"testing"
	"time"

	icholy "github.com/icholy/digest"
)

func TestChoose(t *testing.T) {
	const (
		md5     = `Digest realm="r", nonce="n1", algorithm=MD5, qop="auth"`
		noalg   = `Digest realm="r", nonce="n2", qop="auth"`
		sha256  = `Digest realm="r", nonce="n3", algorithm=SHA-256, qop="auth"`
		sha512  = `Digest realm="r", nonce="n4", algorithm=SHA-512-256, qop="auth"`
		sess    = `Digest realm="r", nonce="n5", algorithm=SHA-256-sess, qop="auth"`
		authInt = `Digest realm="r", nonce="n6", algorithm=SHA-256, qop="auth-int"`
		noNonce = `Digest realm="r", algorithm=SHA-256`
		basic   = `Basic realm="r"`
		garbage = `Digest realm="r`
	)
	tests := []struct {
		name      string
		in        []string
		wantNonce string
		wantQOP   []string
	}{
		{"MD5 alone", []string{md5}, "n1", []string{"auth"}},
		{"SHA-256 after MD5 still wins", []string{md5, sha256}, "n3", []string{"auth"}},
		{"SHA-256 before MD5", []string{sha256, md5}, "n3", []string{"auth"}},
		{"SHA-512-256 strongest", []string{md5, sha512, sha256}, "n4", []string{"auth"}},
		{"absent algorithm is MD5, first of equals", []string{noalg, md5}, "n2", []string{"auth"}},
		{"skips what it cannot answer", []string{basic, garbage, sess, authInt, noNonce, md5}, "n1", []string{"auth"}},
		{"no qop", []string{`Digest realm="r", nonce="n7"`}, "n7", nil},
		{"qop list with spaces", []string{`Digest realm="r", nonce="n8", qop="auth-int, auth"`}, "n8", []string{"auth"}},
		{"leading space, lowercase scheme", []string{` digest realm="r", nonce="n9", algorithm=sha-256, qop="AUTH"`}, "n9", []string{"auth"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Choose(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if c.Nonce != tt.wantNonce || strings.Join(c.QOP, ",") != strings.Join(tt.wantQOP, ",") {
				t.Errorf("chose %+v, want nonce %s qop %v", c, tt.wantNonce, tt.wantQOP)
			}
		})
	}
	for _, in := range [][]string{nil, {}, {basic}, {sess, authInt, noNonce, garbage}} {
		if c, err := Choose(in); !errors.Is(err, ErrNoChallenge) {
			t.Errorf("Choose(%q) = %+v, %v; want ErrNoChallenge", in, c, err)
		}
	}
}

// A registration loop against the server: challenge, answer, refresh on
// the same nonce with increasing counts, stale after expiry, retry.
func TestClientAgainstServer(t *testing.T) {
	s, clk := newTestServer(t, testRealm, WithNonceLifetime(time.Minute))
	c := NewClient("alice", "wonderland")
	if _, err := c.Authorization("REGISTER", "sip:x"); !errors.Is(err, ErrNotChallenged) {
		t.Fatalf("before a challenge: %v", err)
	}
	stale, err := c.Challenged(s.Challenge(false))
	if err != nil || stale {
		t.Fatalf("Challenged = %v, %v", stale, err)
	}
	for i := 1; i <= 3; i++ {
		h, err := c.Authorization("REGISTER", "sip:"+testRealm)
		if err != nil {
			t.Fatal(err)
		}
		creds, _ := icholy.ParseCredentials(h)
		if creds.Nc != i || creds.Algorithm != "SHA-256" || creds.QOP != "auth" {
			t.Fatalf("request %d: %s", i, h)
		}
		wantOutcome(t, s.Check("REGISTER", h, users()), OK, nil)
	}

	clk.advance(2 * time.Minute)
	h, _ := c.Authorization("REGISTER", "sip:"+testRealm)
	r := s.Check("REGISTER", h, users())
	wantOutcome(t, r, Stale, errNonceExpired)
	stale, err = c.Challenged(s.Challenge(true))
	if err != nil || !stale {
		t.Fatalf("Challenged(stale) = %v, %v; want true", stale, err)
	}
	h, _ = c.Authorization("REGISTER", "sip:"+testRealm)
	if creds, _ := icholy.ParseCredentials(h); creds.Nc != 1 {
		t.Errorf("count not reset for the new nonce: %s", h)
	}
	wantOutcome(t, s.Check("REGISTER", h, users()), OK, nil)

	// Wrong password: the new challenge is not stale, so the caller counts
	// a failure.
	bad := NewClient("alice", "guess")
	if _, err := bad.Challenged(s.Challenge(false)); err != nil {
		t.Fatal(err)
	}
	h, _ = bad.Authorization("REGISTER", "sip:"+testRealm)
	wantOutcome(t, s.Check("REGISTER", h, users()), Denied, errWrongResponse)
	if stale, _ := bad.Challenged(s.Challenge(false)); stale {
		t.Error("a refusal looked stale")
	}
}

func TestClientChallengedError(t *testing.T) {
	c := NewClient("alice", "wonderland")
	if _, err := c.Challenged([]string{`Basic realm="r"`}); !errors.Is(err, ErrNoChallenge) {
		t.Fatalf("err = %v", err)
	}
	if _, err := c.Authorization("REGISTER", "sip:x"); !errors.Is(err, ErrNotChallenged) {
		t.Fatalf("err = %v", err)
	}
}
