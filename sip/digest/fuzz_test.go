package digest

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	icholy "github.com/icholy/digest"
)

// FuzzCheck: no Authorization value panics, and none authenticates
// without the password, which here is not known to the fuzzer. Every
// result is Denied and names nobody.
func FuzzCheck(f *testing.F) {
	s, _ := newTestServer(f, testRealm, WithAlgorithms(SHA256, MD5, SHA512_256))
	chal := s.Challenge(false)
	for _, c := range chal {
		f.Add("REGISTER", answer(f, c, "REGISTER", "sip:"+testRealm, "alice", "wonderland", 1))
		f.Add("INVITE", strings.Replace(answer(f, c, "INVITE", "sip:a@b", "alice", "wonderland", 1), `, qop=auth`, "", 1))
	}
	for _, v := range rfcVectors {
		f.Add(v.method, `Digest username="`+v.username+`", realm="`+v.realm+`", nonce="`+v.nonce+`", uri="`+v.uri+
			`", qop=auth, nc=00000001, cnonce="`+v.cnonce+`", response="`+v.response+`"`)
	}
	f.Add("REGISTER", `Digest username="a\"b", realm="x\\", nonce="", uri="", response=""`)
	f.Add("REGISTER", "Digest username=\"a\", username=\"a\"")
	f.Add("", "")
	var pw [16]byte
	for i := range pw {
		pw[i] = byte('a' + (i*7)%26)
	}
	secret := Secret{Password: string(pw[:]) + s.dummy} // not derivable from the corpus
	lookup := func(string) (Secret, bool) { return secret, true }
	f.Fuzz(func(t *testing.T, method, authorization string) {
		r := s.Check(method, authorization, lookup)
		if r.Outcome != Denied || r.Username != "" || r.Reason() == "" {
			t.Fatalf("Check(%q, %q) = %+v (%s)", method, authorization, r, r.Reason())
		}
	})
}

// FuzzRoundTrip: whatever the user name, password, method and URI, what
// icholy/digest signs the server accepts once, and the count is then
// spent. This cross-checks the parser and the hashing against an
// independent implementation.
func FuzzRoundTrip(f *testing.F) {
	f.Add("alice", "wonderland", "REGISTER", "sip:sipagent.test", true, uint8(0))
	f.Add(`we"ird\`, "p, w=\"x\"", "INVITE", `sip:a@b;transport=tcp?x="y"`, false, uint8(1))
	f.Add("J\u00e4s\u00f8n Doe", "Secret, or not?", "OPTIONS", "/doe.json", true, uint8(2))
	f.Fuzz(func(t *testing.T, user, password, method, uri string, qop bool, alg uint8) {
		// icholy/digest quotes with strconv.Quote, whose Go escapes for
		// control characters and invalid UTF-8 are not SIP quoted-pairs.
		for _, v := range []string{user, password, uri} {
			if !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return !strconv.IsPrint(r) }) {
				t.Skip("input out of scope because icholy/digest cannot quote control characters or invalid UTF-8 for SIP")
			}
		}
		if user == "" || uri == "" || len(user)+len(uri) > 1000 {
			t.Skip("needs a user and a URI that fit in one header")
		}
		algs := []Algorithm{MD5, SHA256, SHA512_256}
		s, _ := newTestServer(t, testRealm, WithAlgorithms(algs[int(alg)%len(algs)]))
		chal := s.Challenge(false)[0]
		if !qop {
			chal = strings.Replace(chal, `, qop="auth"`, "", 1)
		}
		c, err := icholy.ParseChallenge(chal)
		if err != nil {
			t.Fatal(err)
		}
		cred, err := icholy.Digest(c, icholy.Options{Method: method, URI: uri, Username: user, Password: password, Count: 1})
		if err != nil {
			t.Fatal(err)
		}
		h := cred.String()
		lookup := func(name string) (Secret, bool) { return Secret{Password: password}, name == user }
		if password == "" {
			lookup = func(name string) (Secret, bool) {
				return Secret{HA1MD5: string(MD5.appendHA1(nil, user, testRealm, "")),
					HA1SHA256:     string(SHA256.appendHA1(nil, user, testRealm, "")),
					HA1SHA512_256: string(SHA512_256.appendHA1(nil, user, testRealm, ""))}, name == user
			}
		}
		if r := s.Check(method, h, lookup); r.Outcome != OK || r.Username != user {
			t.Fatalf("first use of %s: %v (%s)", h, r.Outcome, r.Reason())
		}
		if r := s.Check(method, h, lookup); r.Outcome == OK {
			t.Fatalf("second use of %s accepted", h)
		}
	})
}

// FuzzChoose: no set of challenge values panics, and whatever Choose
// returns can be answered.
func FuzzChoose(f *testing.F) {
	f.Add(`Digest realm="r", nonce="n", algorithm=SHA-256, qop="auth"` + "\n" + `Digest realm="r", nonce="n", algorithm=MD5, qop="auth"`)
	f.Add(`Digest realm="r", nonce="n", qop="auth-int, auth", stale=TRUE, opaque="o", userhash=true`)
	f.Add(`Digest realm="r", nonce="n", algorithm=SHA-512-256`)
	f.Add(`Digest realm="r", nonce="n", algorithm=MD5-sess` + "\n" + `Basic realm="r"`)
	f.Fuzz(func(t *testing.T, values string) {
		c, err := Choose(strings.Split(values, "\n"))
		if err != nil {
			return
		}
		if c.Nonce == "" || (len(c.QOP) != 0 && (len(c.QOP) != 1 || c.QOP[0] != "auth")) {
			t.Fatalf("chose %+v", c)
		}
		if _, err := icholy.Digest(c, icholy.Options{Method: "REGISTER", URI: "sip:x", Username: "u", Password: "p"}); err != nil {
			t.Fatalf("cannot answer chosen %+v: %v", c, err)
		}
	})
}
