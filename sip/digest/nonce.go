package digest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"sync"
	"sync/atomic"
)

// A nonce is base64url(issued || random || mac) without padding:
//
//	issued  8 bytes  big-endian Unix nanoseconds from the server clock,
//	                 made unique and increasing (see nonceSigner.issue)
//	random 12 bytes  crypto/rand, so two nonces issued together differ
//	mac    16 bytes  HMAC-SHA256(secret, issued || random), truncated
//
// The server verifies origin and age from the nonce alone; only nonces
// that have been used with a correct digest enter the replay table.
const (
	nonceIDLen  = 8 + 12
	nonceMACLen = 16
	nonceRawLen = nonceIDLen + nonceMACLen
	nonceLen    = nonceRawLen / 3 * 4 // base64 without padding: 48 characters
)

// nonceID identifies a nonce in the replay table: its issue time and
// random part (the MAC adds nothing once verified).
type nonceID [nonceIDLen]byte

func (id nonceID) issued() int64 { return int64(binary.BigEndian.Uint64(id[:8])) }

// nonceSigner issues and verifies nonces with one secret.
type nonceSigner struct {
	macs sync.Pool    // of *nonceMAC; hmac.New is costly
	last atomic.Int64 // issue time of the newest nonce
}

// nonceMAC is a keyed HMAC with buffers beside it: slices passed through
// the hash.Hash interface escape, so buffers on the stack would be
// allocated on every call.
type nonceMAC struct {
	h   hash.Hash
	in  nonceID
	sum [sha256.Size]byte
}

func newNonceSigner(secret []byte) *nonceSigner {
	key := append([]byte(nil), secret...)
	return &nonceSigner{macs: sync.Pool{New: func() any {
		return &nonceMAC{h: hmac.New(sha256.New, key)}
	}}}
}

func (n *nonceSigner) mac(dst *[nonceMACLen]byte, id *nonceID) {
	m := n.macs.Get().(*nonceMAC)
	m.in = *id
	m.h.Reset()
	m.h.Write(m.in[:])
	copy(dst[:], m.h.Sum(m.sum[:0]))
	n.macs.Put(m)
}

// issue returns a new nonce stamped with now (Unix nanoseconds), or one
// nanosecond after the previous nonce if that is later. Unique, increasing
// stamps give the replay table a strict order to forget by, whatever the
// clock's resolution or a step backwards.
func (n *nonceSigner) issue(now int64) string {
	for {
		last := n.last.Load()
		if now <= last {
			now = last + 1
		}
		if n.last.CompareAndSwap(last, now) {
			break
		}
	}
	var raw [nonceRawLen]byte
	var id nonceID
	binary.BigEndian.PutUint64(id[:8], uint64(now))
	_, _ = rand.Read(id[8:]) // never fails since Go 1.24
	var mac [nonceMACLen]byte
	n.mac(&mac, &id)
	copy(raw[:], id[:])
	copy(raw[nonceIDLen:], mac[:])
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

// open checks that s is a nonce this signer issued and returns its ID.
func (n *nonceSigner) open(s string) (nonceID, bool) {
	var id nonceID
	if len(s) != nonceLen {
		return id, false
	}
	var raw [nonceRawLen]byte
	var enc [64]byte // nonceLen fits; avoids allocating for []byte(s)
	if _, err := base64.RawURLEncoding.Strict().Decode(raw[:], append(enc[:0], s...)); err != nil {
		return id, false
	}
	copy(id[:], raw[:nonceIDLen])
	var mac [nonceMACLen]byte
	n.mac(&mac, &id)
	return id, hmac.Equal(mac[:], raw[nonceIDLen:])
}
