package digest

import (
	"errors"
	"strings"
	"testing"
)

func TestParseCredentials(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want credentials
	}{
		{
			name: "RFC 2617 example",
			in: `Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", ` +
				`uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", ` +
				`response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"`,
			want: credentials{
				username: "Mufasa", realm: "testrealm@host.com", nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
				uri: "/dir/index.html", qop: "auth", nc: "00000001", cnonce: "0a4f113b",
				response: "6629fae49393a05397450978507c4ef1", opaque: "5ccc069c403ebaf9f0171e9517f40e41",
			},
		},
		{
			name: "case, tabs, no spaces, quoted tokens, unknown params",
			in:   "  dIgEsT\tUserName=\"a\",REALM = \"r\" ,\tnonce=\"n\",uri=\"sip:x@y\",response=\"00\",qop=\"auth\",foo=bar,algorithm=SHA-256,x=\"y\"  ",
			want: credentials{username: "a", realm: "r", nonce: "n", uri: "sip:x@y", response: "00", qop: "auth", algorithm: "SHA-256"},
		},
		{
			name: "quoted-pairs",
			in:   `Digest username="J\u00e4s\"on\\", realm="a\,b", nonce="n", uri="u", response="r"`,
			want: credentials{username: `Ju00e4s"on\`, realm: "a,b", nonce: "n", uri: "u", response: "r"},
		},
		{
			name: "utf-8 bytes",
			in:   "Digest username=\"J\u00e4s\u00f8n\", realm=\"r\"",
			want: credentials{username: "J\u00e4s\u00f8n", realm: "r"},
		},
		{
			name: "empty quoted value",
			in:   `Digest username="", realm=""`,
			want: credentials{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseCredentials(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseCredentialsMalformed(t *testing.T) {
	for name, in := range map[string]string{
		"empty":              "",
		"scheme only":        "Digest",
		"scheme and space":   "Digest ",
		"basic":              "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
		"no space":           `Digestusername="a"`,
		"duplicate username": `Digest username="a", username="b"`,
		"duplicate mixed":    `Digest realm="a", REALM="a"`,
		"duplicate response": `Digest response="a", response="b"`,
		"missing value":      `Digest username=`,
		"missing equals":     `Digest username "a"`,
		"bare word":          `Digest username`,
		"trailing comma":     `Digest username="a",`,
		"leading comma":      `Digest , username="a"`,
		"double comma":       `Digest username="a",, realm="r"`,
		"no comma":           `Digest username="a" realm="r"`,
		"unterminated":       `Digest username="a`,
		"escape at end":      `Digest username="a\`,
		"escaped newline":    "Digest username=\"a\\\n\"",
		"escaped non-ascii":  "Digest username=\"a\\\u00e4\"",
		"NUL in quotes":      "Digest username=\"a\x00\"",
		"CRLF in quotes":     "Digest username=\"a\r\n\"",
		"DEL in quotes":      "Digest username=\"a\x7f\"",
		"CRLF between":       "Digest username=\"a\",\r\n realm=\"r\"",
		"bad token char":     `Digest username=a@b`,
		"semicolon":          `Digest username="a"; realm="r"`,
		"too long":           `Digest username="` + strings.Repeat("a", MaxCredentialsLen) + `"`,
	} {
		t.Run(name, func(t *testing.T) {
			if c, err := parseCredentials(in); !errors.Is(err, errMalformed) {
				t.Errorf("parseCredentials(%.60q) = %+v, %v; want errMalformed", in, c, err)
			}
		})
	}
}

func TestParseCredentialsDoesNotAllocate(t *testing.T) {
	in := `Digest username="alice", realm="sipagent", nonce="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", ` +
		`uri="sip:sipagent.example", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="abcdef", ` +
		`response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"`
	if n := testing.AllocsPerRun(100, func() { _, _ = parseCredentials(in) }); n != 0 {
		t.Errorf("parseCredentials allocates %v times", n)
	}
}
