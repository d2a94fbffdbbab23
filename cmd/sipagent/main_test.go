package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sipagent/sipagent/sip/siptest"
)

// These tests run the real binary: what a user types is what is tested.

var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sipagent-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "sipagent")
	out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func runBin(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func TestVersionAndHelp(t *testing.T) {
	out, _, code := runBin(t, "--version")
	if code != 0 || !strings.HasPrefix(out, "sipagent ") {
		t.Errorf("--version: code %d, out %q", code, out)
	}
	_, errOut, code := runBin(t, "--help")
	if code != 0 || !strings.Contains(errOut, "-config") || !strings.Contains(errOut, "Exit status") {
		t.Errorf("--help: code %d, out %q", code, errOut)
	}
	_, _, code = runBin(t, "--no-such-flag")
	if code != 2 {
		t.Errorf("unknown flag: exit %d, want 2", code)
	}
}

func TestDefaultConfigChecks(t *testing.T) {
	out, errOut, code := runBin(t, "--check")
	if code != 0 || !strings.Contains(out, "configuration OK") {
		t.Errorf("--check on the embedded default: code %d\n%s%s", code, out, errOut)
	}
}

func TestBadConfigExitsTwoNamingTheKey(t *testing.T) {
	tests := map[string]struct{ doc, key string }{
		"unknown key":  {"sip: {listne: []}\nagents: {a: {kind: echo}}\nroutes: [{agent: a}]\npeers: [{name: l, addresses: [127.0.0.1]}]\n", "sip.listne"},
		"bad codec":    {"media: {codecs: [OPUS]}\nagents: {a: {kind: echo}}\nroutes: [{agent: a}]\npeers: [{name: l, addresses: [127.0.0.1]}]\n", "media.codecs[0]"},
		"missing flow": {"agents: {a: {kind: flow, flow: /nonexistent/x.yaml}}\nroutes: [{agent: a}]\npeers: [{name: l, addresses: [127.0.0.1]}]\n", "agents.a"},
		"unset env":    {"sip: {external_host: \"${SIPAGENT_TEST_UNSET}\"}\nagents: {a: {kind: echo}}\nroutes: [{agent: a}]\npeers: [{name: l, addresses: [127.0.0.1]}]\n", "sip.external_host"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(tt.doc), 0o600); err != nil {
				t.Fatal(err)
			}
			_, errOut, code := runBin(t, "--config", path, "--check")
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(errOut, tt.key) {
				t.Errorf("stderr %q does not name %q", errOut, tt.key)
			}
		})
	}
	_, errOut, code := runBin(t, "--config", "/nonexistent/sipagent.yaml")
	if code != 2 || !strings.Contains(errOut, "/nonexistent/sipagent.yaml") {
		t.Errorf("missing file: exit %d, %q", code, errOut)
	}
}

// binProc is the sipagent binary serving in the background for a test.
type binProc struct {
	cmd    *exec.Cmd
	logs   bytes.Buffer // its stderr; read once it has exited
	exited bool
}

// startBin starts the binary with args, bounded by ctx. When the test
// ends the process is killed if it is still running, and its log is
// shown if the test failed.
func startBin(t *testing.T, ctx context.Context, args ...string) *binProc {
	t.Helper()
	p := &binProc{cmd: exec.CommandContext(ctx, binPath, args...)}
	p.cmd.Stderr = &p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !p.exited {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("sipagent log:\n%s", p.logs.String())
		}
	})
	return p
}

// signal sends sig to the process.
func (p *binProc) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// wait waits for the process to exit and returns how it did.
func (p *binProc) wait() error {
	err := p.cmd.Wait()
	p.exited = true
	return err
}

// The binary serves, answers OPTIONS, and exits 0 on SIGTERM.
func TestServeAndStopOnSignal(t *testing.T) {
	port := freeUDPPort(t)
	cfg := fmt.Sprintf(`
sip: {listen: ["udp://127.0.0.1:%d"]}
media: {rtp_ports: "24000-24999"}
agents: {demo: {kind: flow}}
routes: [{agent: demo}]
peers: [{name: l, addresses: [127.0.0.1]}]
shutdown: {drain: 1s}
log: {format: json}
`, port)
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, "--config", path, "--pprof", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	pprofAddr := make(chan string, 1)
	logs := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if strings.Contains(line, "sipagent started") {
				close(started)
			}
			if m := regexp.MustCompile(`"msg":"pprof listening","addr":"([^"]+)"`).FindStringSubmatch(line); m != nil {
				pprofAddr <- m[1]
			}
			select {
			case logs <- line:
			default:
			}
		}
		close(logs)
	}()
	select {
	case <-started:
	case <-ctx.Done():
		t.Fatal("sipagent did not start")
	}

	// The profiling endpoint serves on loopback.
	resp, err := http.Get("http://" + <-pprofAddr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "goroutine profile") {
		t.Errorf("pprof: %d %.200s", resp.StatusCode, body)
	}

	res := options(t, fmt.Sprintf("127.0.0.1:%d", port))
	if !strings.HasPrefix(res, "SIP/2.0 200") || !strings.Contains(res, "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS") {
		t.Errorf("OPTIONS answer:\n%s", res)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var all []string
	for l := range logs {
		all = append(all, l)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, strings.Join(all, "\n"))
	}
	if !strings.Contains(strings.Join(all, "\n"), `"msg":"stopped"`) {
		t.Errorf("no 'stopped' log line:\n%s", strings.Join(all, "\n"))
	}
}

func options(t *testing.T, addr string) string {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	req := optionsRequest("UDP", addr, c.LocalAddr().String())
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no answer to OPTIONS: %v", err)
	}
	return string(buf[:n])
}

// optionsRequest is an OPTIONS to addr from local over transport (UDP,
// TCP, TLS as in Via).
func optionsRequest(transport, addr, local string) string {
	uri := "sip:" + addr
	if transport != "UDP" {
		uri += ";transport=" + strings.ToLower(transport)
	}
	return "OPTIONS " + uri + " SIP/2.0\r\n" +
		"Via: SIP/2.0/" + transport + " " + local + ";branch=z9hG4bK-opt1;rport\r\n" +
		"From: <sip:test@" + local + ">;tag=t1\r\n" +
		"To: <sip:" + addr + ">\r\n" +
		"Call-ID: options-test@" + local + "\r\n" +
		"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
}

func freeUDPPort(t *testing.T) int { return siptest.FreePort(t, "udp", "127.0.0.1") }

// --pprof refuses anything but a loopback address: profiles are for the
// operator, not for whoever can reach the SIP port.
func TestPprofLoopbackOnly(t *testing.T) {
	_, errOut, code := runBin(t, "--pprof", "0.0.0.0:6060")
	if code != 2 || !strings.Contains(errOut, "loopback") {
		t.Errorf("--pprof 0.0.0.0: exit %d, %q", code, errOut)
	}
}
