package digest

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"strings"
)

// Algorithm is a digest algorithm token as it appears in the algorithm
// parameter (RFC 7616 s.3.3, RFC 8760 s.2.2).
type Algorithm string

// The algorithms this package implements. The -sess variants are not.
const (
	MD5        Algorithm = "MD5"
	SHA256     Algorithm = "SHA-256"
	SHA512_256 Algorithm = "SHA-512-256"
)

// parseAlgorithm maps an algorithm parameter to an Algorithm; tokens are
// case-insensitive and an absent parameter means MD5 (RFC 2617 s.3.2.1).
func parseAlgorithm(s string) (Algorithm, bool) {
	switch {
	case s == "" || strings.EqualFold(s, string(MD5)):
		return MD5, true
	case strings.EqualFold(s, string(SHA256)):
		return SHA256, true
	case strings.EqualFold(s, string(SHA512_256)):
		return SHA512_256, true
	}
	return "", false
}

// strength orders algorithms for [Choose]; 0 means unknown.
func (a Algorithm) strength() int {
	switch a {
	case MD5:
		return 1
	case SHA256:
		return 2
	case SHA512_256:
		return 3
	}
	return 0
}

// hexLen is the length of H(data) in lowercase hex.
func (a Algorithm) hexLen() int {
	if a == MD5 {
		return 2 * md5.Size
	}
	return 2 * sha256.Size // SHA-256 and SHA-512/256 both give 32 bytes
}

// appendHash appends the lowercase hex of H(data) to dst.
func (a Algorithm) appendHash(dst, data []byte) []byte {
	switch a {
	case SHA256:
		sum := sha256.Sum256(data)
		return hex.AppendEncode(dst, sum[:])
	case SHA512_256:
		sum := sha512.Sum512_256(data)
		return hex.AppendEncode(dst, sum[:])
	default:
		sum := md5.Sum(data)
		return hex.AppendEncode(dst, sum[:])
	}
}

// appendHA1 appends H(username ":" realm ":" password), RFC 7616 s.3.4.2.
func (a Algorithm) appendHA1(dst []byte, username, realm, password string) []byte {
	var scratch [256]byte
	b := append(scratch[:0], username...)
	b = append(b, ':')
	b = append(b, realm...)
	b = append(b, ':')
	b = append(b, password...)
	return a.appendHash(dst, b)
}

// responseInput is what the response hashes besides HA1. nc and qop are
// empty for an RFC 2069-style answer to a challenge without qop.
type responseInput struct {
	method, uri, nonce, nc, cnonce, qop string
}

// appendResponse appends the expected response (RFC 7616 s.3.4.1):
// KD(HA1, nonce:nc:cnonce:qop:H(A2)) with qop, KD(HA1, nonce:H(A2))
// without, where A2 = method:uri (RFC 3261 s.22.4 uses the SIP method).
// ha1 must be lowercase hex.
func (a Algorithm) appendResponse(dst, ha1 []byte, in responseInput) []byte {
	var scratch [512]byte
	b := append(scratch[:0], in.method...)
	b = append(b, ':')
	b = append(b, in.uri...)
	var ha2buf [2 * sha256.Size]byte
	ha2 := a.appendHash(ha2buf[:0], b)

	b = append(scratch[:0], ha1...)
	b = append(b, ':')
	b = append(b, in.nonce...)
	b = append(b, ':')
	if in.qop != "" {
		b = append(b, in.nc...)
		b = append(b, ':')
		b = append(b, in.cnonce...)
		b = append(b, ':')
		b = append(b, in.qop...)
		b = append(b, ':')
	}
	b = append(b, ha2...)
	return a.appendHash(dst, b)
}
