package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sipagent/sipagent/sip/siptest"
)

// The operator can see each account's registration state over HTTP and
// with `sipagent status`. The account here registers over TCP to a port
// nobody listens on, so its state is "retrying" with the reason.
func TestStatusEndpointAndCommand(t *testing.T) {
	sipPort := freeUDPPort(t)
	httpPort := freeTCPPort(t)
	deadPort := freeTCPPort(t)
	cfg := fmt.Sprintf(`
sip: {listen: ["udp://127.0.0.1:%d", "tcp://127.0.0.1:%d"]}
media: {rtp_ports: "24000-24999"}
agents: {demo: {kind: echo}}
routes: [{agent: demo}]
peers: [{name: local, addresses: ["127.0.0.1"]}]
accounts:
  - {name: pbx, registrar: "sip:127.0.0.1:%d", username: agent, password: "${PBX_PASSWORD}", transport: tcp, agent: demo}
http: {listen: "127.0.0.1:%d"}
shutdown: {drain: 1s}
log: {format: json}
`, sipPort, sipPort, deadPort, httpPort)
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	t.Setenv("PBX_PASSWORD", "hunter2-not-in-logs") // for both sipagent runs
	cmd := exec.CommandContext(ctx, binPath, "--config", path)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logs := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs <- sc.Text()
		}
		close(logs)
	}()

	url := fmt.Sprintf("http://127.0.0.1:%d/status", httpPort)
	var st Status
	for {
		if ctx.Err() != nil {
			t.Fatalf("no retrying state in /status: %+v", st)
		}
		if res, err := http.Get(url); err == nil {
			_ = json.NewDecoder(res.Body).Decode(&st)
			_ = res.Body.Close()
			if len(st.Registrations) == 1 && st.Registrations[0].State == "retrying" {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	r := st.Registrations[0]
	if r.Account != "pbx" || r.AOR != "sip:agent@127.0.0.1" || r.LastError == "" || r.Retry.IsZero() || r.Failures < 1 {
		t.Errorf("registration status %+v", r)
	}

	out, errOut, code := runBin(t, "--config", path, "status")
	if code != 0 || !strings.Contains(out, "pbx  sip:agent@127.0.0.1") || !strings.Contains(out, "retrying because") {
		t.Errorf("sipagent status: exit %d\n%s%s", code, out, errOut)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var all []string
	for l := range logs {
		all = append(all, l)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	joined := strings.Join(all, "\n")
	if !strings.Contains(joined, `"msg":"registration failed"`) {
		t.Errorf("no registration failure logged:\n%s", joined)
	}
	if strings.Contains(joined, "hunter2") {
		t.Errorf("the account password reached the log")
	}
}

// `sipagent status` needs http.listen to know where to ask.
func TestStatusWithoutHTTP(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	doc := "agents: {a: {kind: echo}}\nroutes: [{agent: a}]\npeers: [{name: l, addresses: [127.0.0.1]}]\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runBin(t, "--config", path, "status")
	if code != 2 || !strings.Contains(errOut, "http.listen") {
		t.Errorf("exit %d, %q", code, errOut)
	}
}

func freeTCPPort(t *testing.T) int { return siptest.FreePort(t, "tcp", "127.0.0.1") }
