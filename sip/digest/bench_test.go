package digest

import (
	"testing"

	icholy "github.com/icholy/digest"
)

// BenchmarkCheck measures one Check of an INVITE: parse, nonce MAC, HA1,
// response and the replay table. "ok" answers one nonce with increasing
// counts (headers signed outside the timer); the denied cases do the same
// hashing without touching the table.
func BenchmarkCheck(b *testing.B) {
	for _, alg := range []Algorithm{MD5, SHA256} {
		b.Run(string(alg)+"/ok", func(b *testing.B) {
			s, _ := newTestServer(b, testRealm, WithAlgorithms(alg))
			chal, err := icholy.ParseChallenge(s.Challenge(false)[0])
			if err != nil {
				b.Fatal(err)
			}
			lookup := users()
			const chunk = 4096
			headers := make([]string, chunk)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if i%chunk == 0 {
					b.StopTimer()
					for j := range headers {
						cred, err := icholy.Digest(chal, icholy.Options{
							Method: "INVITE", URI: "sip:agent@" + testRealm,
							Username: "alice", Password: "wonderland", Count: i + j + 1,
						})
						if err != nil {
							b.Fatal(err)
						}
						headers[j] = cred.String()
					}
					b.StartTimer()
				}
				if r := s.Check("INVITE", headers[i%chunk], lookup); r.Outcome != OK {
					b.Fatalf("%v: %s", r.Outcome, r.Reason())
				}
			}
		})
		for _, tc := range []struct{ name, user, password string }{
			{"wrong-password", "alice", "guess"},
			{"unknown-user", "mallory", "wonderland"},
		} {
			b.Run(string(alg)+"/"+tc.name, func(b *testing.B) {
				s, _ := newTestServer(b, testRealm, WithAlgorithms(alg))
				h := answer(b, s.Challenge(false)[0], "INVITE", "sip:agent@"+testRealm, tc.user, tc.password, 1)
				lookup := users()
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					if r := s.Check("INVITE", h, lookup); r.Outcome != Denied {
						b.Fatal(r.Outcome)
					}
				}
			})
		}
	}
}

func BenchmarkChallenge(b *testing.B) {
	s, _ := newTestServer(b, testRealm)
	b.ReportAllocs()
	for range b.N {
		_ = s.Challenge(false)
	}
}
