package stream

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/sipagent/sipagent/agent"
)

// Twilio SIDs are two letters naming the kind of object and 32 lower-case
// hex digits. Agents log them and some check their shape, so the ones
// sipagent makes up look the same.

// CallSid returns the CallSid a call with SIP Call-ID callID is streamed
// under: "CA" and the first 16 bytes of the Call-ID's SHA-256 in hex, so
// the same call always gets the same one. An empty Call-ID gets a random
// one.
func CallSid(callID string) string {
	if callID == "" {
		return randomSid("CA")
	}
	return agent.Info{CallID: callID}.CallSid()
}

// randomSid returns prefix and 32 random hex digits.
func randomSid(prefix string) string {
	var b [16]byte
	rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return prefix + hex.EncodeToString(b[:])
}

// validSid reports whether sid is prefix and 32 hex digits.
func validSid(prefix, sid string) bool {
	if len(sid) != len(prefix)+32 || sid[:len(prefix)] != prefix {
		return false
	}
	for _, c := range []byte(sid[len(prefix):]) {
		hex := '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
		if !hex {
			return false
		}
	}
	return true
}
