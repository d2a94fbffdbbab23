package sip

import "testing"

func TestSipfragStatus(t *testing.T) {
	tests := []struct {
		body string
		code int
		ok   bool
	}{
		{"SIP/2.0 200 OK\r\n", 200, true},
		{"SIP/2.0 100 Trying", 100, true},
		{"\r\nSIP/2.0 486 Busy Here\r\nContent-Length: 0\r\n", 486, true},
		{"SIP/2.0 2000 OK", 0, false},
		{"SIP/2.0 099 Low", 0, false},
		{"HTTP/1.1 200 OK", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		code, ok := sipfragStatus([]byte(tt.body))
		if code != tt.code || ok != tt.ok {
			t.Errorf("%q: %d %v, want %d %v", tt.body, code, ok, tt.code, tt.ok)
		}
	}
}

// FuzzSipfragStatus: any NOTIFY body gives a status code of 100-999 or
// nothing.
func FuzzSipfragStatus(f *testing.F) {
	f.Add([]byte("SIP/2.0 200 OK\r\n"))
	f.Add([]byte("SIP/2.0 180"))
	f.Fuzz(func(t *testing.T, body []byte) {
		code, ok := sipfragStatus(body)
		if ok != (code != 0) || (ok && (code < 100 || code > 999)) {
			t.Fatalf("%q: %d %v", body, code, ok)
		}
	})
}
