package stream

import (
	"context"
	"strings"
	"testing"

	"github.com/sipagent/sipagent/agent/agenttest"
)

func TestSids(t *testing.T) {
	a, b := CallSid("abc@host"), CallSid("abd@host")
	if !validSid("CA", a) || a != CallSid("abc@host") || a == b {
		t.Errorf("CallSid gives %q and %q", a, b)
	}
	if r := CallSid(""); !validSid("CA", r) || r == CallSid("") {
		t.Errorf("CallSid without Call-ID = %q, want random", r)
	}
	if s := randomSid("MZ"); !validSid("MZ", s) {
		t.Errorf("randomSid = %q", s)
	}
	for _, bad := range []string{"", "MZ", "CA0123456789abcdef0123456789abcdef", "MZ0123456789abcdef0123456789abcdeg",
		"MZ0123456789abcdef0123456789abcdef0"} {
		if validSid("MZ", bad) {
			t.Errorf("validSid(MZ, %q) = true", bad)
		}
	}
}

func TestLogURLHidesSecrets(t *testing.T) {
	if got := logURL("wss://user:pw@agent.example.com/media?token=s3cret#x"); got != "wss://agent.example.com/media" {
		t.Errorf("logURL = %q", got)
	}
	if _, err := New(Config{URL: "https://agent.example.com/?token=s3cret"}); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("New = %v, want an error without the token", err)
	}
}

func TestDialErrorHidesSecrets(t *testing.T) {
	_, err := Run(context.Background(), agenttest.New(), Options{URL: "ws://joe:p4ssw0rd@" + closedAddr(t) + "/media?token=s3cret"})
	if err == nil || strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "p4ssw0rd") {
		t.Errorf("Run = %v, want an error without the token", err)
	}
}
