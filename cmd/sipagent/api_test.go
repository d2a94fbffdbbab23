package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The live-call API as the binary serves it: off without a token; with
// one, a call in progress is listed, and a Twiml= update hangs it up (the
// sipp caller gets the BYE).
func TestLiveCallAPI(t *testing.T) {
	sipPort := freeUDPPort(t)
	httpPort := freeTCPPort(t)
	const token = "api-token-0123456789"
	cfg := fmt.Sprintf(`
sip: {listen: ["udp://127.0.0.1:%d"]}
media: {rtp_ports: "23000-23999"}
agents: {echo: {kind: echo}}
routes: [{agent: echo}]
peers: [{name: local, addresses: ["127.0.0.1"]}]
http: {listen: "127.0.0.1:%d"}
api: {account_sid: ACtest, auth_token: %q}
log: {format: json}
`, sipPort, httpPort, token)
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	bin := startBin(t, ctx, "--config", path)
	defer func() {
		_ = bin.cmd.Process.Kill()
		_ = bin.wait()
		if strings.Contains(bin.logs.String(), token) {
			t.Error("the API token is in the log")
		}
	}()
	base := fmt.Sprintf("http://127.0.0.1:%d/2010-04-01/Accounts/ACtest", httpPort)
	if !eventually(10*time.Second, func() bool { return httpStatus(fmt.Sprintf("http://127.0.0.1:%d/readyz", httpPort)) == http.StatusOK }) {
		t.Fatal("sipagent not ready")
	}
	if code := httpStatus(base + "/Calls.json"); code != http.StatusUnauthorized {
		t.Errorf("without credentials: %d, want 401", code)
	}

	caller := sippCmd(ctx, t, "uac_wait_bye.xml", fmt.Sprintf("127.0.0.1:%d", sipPort), t.TempDir(), 1)
	var out bytes.Buffer
	caller.Stdout, caller.Stderr = &out, &out
	if err := caller.Start(); err != nil {
		t.Fatal(err)
	}
	var sid string
	if !eventually(10*time.Second, func() bool {
		var list struct {
			Calls []struct{ Sid, Status, Direction string }
		}
		if apiDo(t, http.MethodGet, base+"/Calls.json", nil, token, &list) != http.StatusOK || len(list.Calls) != 1 {
			return false
		}
		c := list.Calls[0]
		sid = c.Sid
		return c.Status == "in-progress" && c.Direction == "inbound"
	}) {
		t.Fatal("the call is not listed in progress")
	}
	form := url.Values{"Twiml": {"<Response><Hangup/></Response>"}}
	if code := apiDo(t, http.MethodPost, base+"/Calls/"+sid+".json", form, token, nil); code != http.StatusOK {
		t.Fatalf("update: %d", code)
	}
	if err := caller.Wait(); err != nil {
		t.Errorf("sipp caller (waits for the BYE): %v\n%s", err, lastLines(out.Bytes(), 30))
	}
}

// apiDo makes an authenticated API request and decodes a JSON answer
// into v (if not nil). It returns the status code.
func apiDo(t *testing.T, method, u string, form url.Values, token string, v any) int {
	t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.SetBasicAuth("ACtest", token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer func() { _ = res.Body.Close() }()
	if v != nil && res.StatusCode == http.StatusOK {
		if err := json.NewDecoder(res.Body).Decode(v); err != nil {
			t.Errorf("%s %s: %v", method, u, err)
		}
	}
	return res.StatusCode
}
