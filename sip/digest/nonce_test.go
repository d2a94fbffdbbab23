package digest

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestNonceLen(t *testing.T) {
	if got := base64.RawURLEncoding.EncodedLen(nonceRawLen); got != nonceLen {
		t.Fatalf("EncodedLen = %d, nonceLen = %d", got, nonceLen)
	}
}

func TestNonceIssueOpen(t *testing.T) {
	signer := newNonceSigner([]byte("0123456789abcdef0123456789abcdef"))
	const now = int64(1_700_000_000_123_456_789)
	a, b := signer.issue(now), signer.issue(now)
	if a == b {
		t.Fatal("two nonces at the same instant are equal")
	}
	if len(a) != nonceLen || strings.ContainsAny(a, `"\=+/`) {
		t.Fatalf("nonce %q: want %d base64url characters without padding", a, nonceLen)
	}
	id, ok := signer.open(a)
	if !ok || id.issued() != now {
		t.Fatalf("open = %v, issued %d; want true, %d", ok, id.issued(), now)
	}
	// Same instant, or a clock step back: stamps still increase.
	idB, _ := signer.open(b)
	idC, _ := signer.open(signer.issue(now - 1e9))
	if idB.issued() != now+1 || idC.issued() != now+2 {
		t.Errorf("stamps %d, %d; want %d, %d", idB.issued(), idC.issued(), now+1, now+2)
	}

	other := newNonceSigner([]byte("another secret, another server."))
	if _, ok := other.open(a); ok {
		t.Error("a nonce opened under another secret")
	}
	for i := range a {
		// Change one character; a different base64 digit changes the bytes.
		c := byte('A')
		if a[i] == 'A' {
			c = 'B'
		}
		if _, ok := signer.open(a[:i] + string(c) + a[i+1:]); ok {
			t.Errorf("tampered nonce accepted (position %d)", i)
		}
	}
	for _, bad := range []string{"", a[:nonceLen-1], a + "A", strings.Repeat("!", nonceLen), a[:nonceLen-2] + "=="} {
		if _, ok := signer.open(bad); ok {
			t.Errorf("open(%q) accepted", bad)
		}
	}
}
