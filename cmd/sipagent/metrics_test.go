package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sipagent/sipagent/sip/siptest"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/sipagent/sipagent/media"
	"github.com/sipagent/sipagent/sip"
	"github.com/sipagent/sipagent/transfer"
)

type fakeCalls struct {
	st   sip.Stats
	regs []sip.RegistrationStatus
}

func (f *fakeCalls) Stats() sip.Stats                        { return f.st }
func (f *fakeCalls) Registrations() []sip.RegistrationStatus { return f.regs }

type fakeTransfers struct{ st transfer.TransferStats }

func (f *fakeTransfers) Stats() transfer.TransferStats { return f.st }

// The collector reports the snapshots as they are, under the documented
// names and labels.
func TestMetricsCollector(t *testing.T) {
	calls := &fakeCalls{regs: []sip.RegistrationStatus{
		{Account: "pbx", State: sip.RegRegistered},
		{Account: "twilio", State: "something new"},
	}}
	calls.st.Calls[sip.OutcomeCompleted] = 5
	calls.st.Calls[sip.OutcomeRTPTimeout] = 1
	calls.st.ActiveCalls = 2
	calls.st.RTPPacketsIn, calls.st.RTPPacketsOut, calls.st.RTPLost, calls.st.JitterDrops = 1000, 1200, 3, 4
	calls.st.AgentErrors = 1
	transfers := &fakeTransfers{}
	transfers.st.Refer[transfer.OutcomeCompleted] = 2
	transfers.st.Bridge[transfer.OutcomeNoAnswer] = 1
	transfers.st.Refer[transfer.OutcomeRefused] = 3

	const want = `
# HELP sipagent_calls_total Calls ended, by outcome: completed, cancelled, rejected, failed, rtp_timeout, agent_error, shutdown.
# TYPE sipagent_calls_total counter
sipagent_calls_total{outcome="agent_error"} 0
sipagent_calls_total{outcome="cancelled"} 0
sipagent_calls_total{outcome="completed"} 5
sipagent_calls_total{outcome="failed"} 0
sipagent_calls_total{outcome="rejected"} 0
sipagent_calls_total{outcome="rtp_timeout"} 1
sipagent_calls_total{outcome="shutdown"} 0
# HELP sipagent_calls_active Calls in setup or in progress.
# TYPE sipagent_calls_active gauge
sipagent_calls_active 2
# HELP sipagent_rtp_packets_received_total RTP packets received, counted up to each scrape.
# TYPE sipagent_rtp_packets_received_total counter
sipagent_rtp_packets_received_total 1000
# HELP sipagent_rtp_packets_sent_total RTP packets sent, counted up to each scrape.
# TYPE sipagent_rtp_packets_sent_total counter
sipagent_rtp_packets_sent_total 1200
# HELP sipagent_rtp_packets_lost_total Audio packets never played: lost, concealed or skipped.
# TYPE sipagent_rtp_packets_lost_total counter
sipagent_rtp_packets_lost_total 3
# HELP sipagent_jitter_buffer_drops_total Audio packets the jitter buffer threw away.
# TYPE sipagent_jitter_buffer_drops_total counter
sipagent_jitter_buffer_drops_total 4
# HELP sipagent_agent_errors_total Agents that failed, while their call ran or after it ended.
# TYPE sipagent_agent_errors_total counter
sipagent_agent_errors_total 1
# HELP sipagent_registrations Registration state of each account: 1 for its current state, 0 for the others.
# TYPE sipagent_registrations gauge
sipagent_registrations{account="pbx",state="refused"} 0
sipagent_registrations{account="pbx",state="registered"} 1
sipagent_registrations{account="pbx",state="retrying"} 0
sipagent_registrations{account="pbx",state="starting"} 0
sipagent_registrations{account="pbx",state="unregistered"} 0
sipagent_registrations{account="twilio",state="refused"} 0
sipagent_registrations{account="twilio",state="registered"} 0
sipagent_registrations{account="twilio",state="retrying"} 0
sipagent_registrations{account="twilio",state="something new"} 1
sipagent_registrations{account="twilio",state="starting"} 0
sipagent_registrations{account="twilio",state="unregistered"} 0
`
	if err := testutil.CollectAndCompare(newMetricsCollector(calls, transfers), strings.NewReader(want),
		"sipagent_calls_total", "sipagent_calls_active", "sipagent_rtp_packets_received_total",
		"sipagent_rtp_packets_sent_total", "sipagent_rtp_packets_lost_total", "sipagent_jitter_buffer_drops_total",
		"sipagent_agent_errors_total", "sipagent_registrations"); err != nil {
		t.Error(err)
	}

	c := newMetricsCollector(calls, transfers)
	if n := testutil.CollectAndCount(c, "sipagent_transfers_total"); n != 12 {
		t.Errorf("%d sipagent_transfers_total series, want 12 (2 modes x 6 outcomes)", n)
	}
	const wantTransfers = `
# HELP sipagent_transfers_total Transfers ended, by mode (refer, bridge) and outcome: completed, busy, no-answer, failed, canceled, refused-by-policy.
# TYPE sipagent_transfers_total counter
sipagent_transfers_total{mode="bridge",outcome="busy"} 0
sipagent_transfers_total{mode="bridge",outcome="canceled"} 0
sipagent_transfers_total{mode="bridge",outcome="completed"} 0
sipagent_transfers_total{mode="bridge",outcome="failed"} 0
sipagent_transfers_total{mode="bridge",outcome="no-answer"} 1
sipagent_transfers_total{mode="bridge",outcome="refused-by-policy"} 0
sipagent_transfers_total{mode="refer",outcome="busy"} 0
sipagent_transfers_total{mode="refer",outcome="canceled"} 0
sipagent_transfers_total{mode="refer",outcome="completed"} 2
sipagent_transfers_total{mode="refer",outcome="failed"} 0
sipagent_transfers_total{mode="refer",outcome="no-answer"} 0
sipagent_transfers_total{mode="refer",outcome="refused-by-policy"} 3
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(wantTransfers), "sipagent_transfers_total"); err != nil {
		t.Error(err)
	}

	// Without a transfer service there is no transfer metric, and the
	// rest is unchanged.
	if n := testutil.CollectAndCount(newMetricsCollector(calls, nil), "sipagent_transfers_total"); n != 0 {
		t.Errorf("%d transfer series without a transfer service", n)
	}
	// What the collector describes is what it collects, which the
	// registry checks.
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) != 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}

// The binary serves /metrics, /healthz and /readyz beside /status. After
// real calls (sipp as the caller, an echo agent) the counters show them;
// once SIGTERM starts the drain, /readyz answers 503 while the last call
// runs out and /healthz still 200.
func TestMetricsHealthAndReadiness(t *testing.T) {
	sipPort := freeUDPPort(t)
	httpPort := freeTCPPort(t)
	deadPort := freeTCPPort(t)
	const password = "hunter2-not-in-metrics"
	cfg := fmt.Sprintf(`
sip: {listen: ["udp://127.0.0.1:%d", "tcp://127.0.0.1:%d"]}
media: {rtp_ports: "24000-24999"}
agents: {echo: {kind: echo}}
routes: [{agent: echo}]
peers: [{name: local, addresses: ["127.0.0.1"]}]
accounts:
  - {name: pbx, registrar: "sip:127.0.0.1:%d", username: agent, password: %q, transport: tcp, agent: echo}
http: {listen: "127.0.0.1:%d"}
shutdown: {drain: 3s}
log: {format: json}
`, sipPort, sipPort, deadPort, password, httpPort)
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	writeToneWAV(t, filepath.Join(dir, "audio.wav"))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	bin := startBin(t, ctx, "--config", path)
	base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	sipAddr := fmt.Sprintf("127.0.0.1:%d", sipPort)

	if !eventually(10*time.Second, func() bool { return httpStatus(base+"/readyz") == http.StatusOK }) {
		t.Fatalf("/readyz not 200 after start: %d", httpStatus(base+"/readyz"))
	}
	if code, body := httpGet(t, base+"/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}

	for _, run := range []struct {
		scenario string
		calls    int
	}{{"uac_stream.xml", 2}, {"uac_488.xml", 1}} {
		if out, err := sippCmd(ctx, t, run.scenario, sipAddr, dir, run.calls).CombinedOutput(); err != nil {
			t.Fatalf("sipp %s: %v\n%s", run.scenario, err, lastLines(out, 30))
		}
	}

	// A call's counters are added as it ends, after sipp has seen the
	// BYE answered.
	var m map[string]float64
	var body string
	done := eventually(10*time.Second, func() bool {
		m, body = scrape(t, base+"/metrics")
		return m[`sipagent_calls_total{outcome="completed"}`] == 2 && m["sipagent_calls_active"] == 0 &&
			m[`sipagent_registrations{account="pbx",state="retrying"}`] == 1
	})
	if !done {
		t.Fatalf("calls not counted:\n%s", body)
	}
	for series, want := range map[string]float64{
		`sipagent_calls_total{outcome="rejected"}`:                   1, // the 488
		`sipagent_calls_total{outcome="agent_error"}`:                0,
		`sipagent_agent_errors_total`:                                0,
		`sipagent_registrations{account="pbx",state="registered"}`:   0,
		`sipagent_transfers_total{mode="refer",outcome="completed"}`: 0,
		`sipagent_transfers_total{mode="bridge",outcome="failed"}`:   0,
	} {
		if got, ok := m[series]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, want)
		}
	}
	// sipp streams 2 s per call, 50 packets a second, and the echo
	// agent sends all the while.
	if in, out := m["sipagent_rtp_packets_received_total"], m["sipagent_rtp_packets_sent_total"]; in < 100 || out < 100 {
		t.Errorf("RTP received %v, sent %v: want at least 100 each", in, out)
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total", "sipagent_rtp_packets_lost_total", "sipagent_jitter_buffer_drops_total"} {
		if _, ok := m[name]; !ok {
			t.Errorf("no %s in /metrics", name)
		}
	}
	if strings.Contains(body, password) {
		t.Error("the account password is in /metrics")
	}

	// A call that never ends by itself keeps the drain going.
	silent := sippCmd(ctx, t, "robust_silent_wait_bye.xml", sipAddr, t.TempDir(), 1)
	var silentOut bytes.Buffer
	silent.Stdout, silent.Stderr = &silentOut, &silentOut
	if err := silent.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = silent.Wait() }() // ctx bounds it
	if !eventually(10*time.Second, func() bool { m, _ := scrape(t, base+"/metrics"); return m["sipagent_calls_active"] == 1 }) {
		t.Fatal("the silent call did not start")
	}
	bin.signal(t, syscall.SIGTERM)
	if !eventually(2*time.Second, func() bool { return httpStatus(base+"/readyz") == http.StatusServiceUnavailable }) {
		t.Errorf("/readyz still %d while draining", httpStatus(base+"/readyz"))
	}
	if code, _ := httpGet(t, base+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz %d while draining", code)
	}

	if err := silent.Wait(); err != nil {
		t.Errorf("sipp (silent call): %v\n%s", err, lastLines(silentOut.Bytes(), 30))
	}
	if err := bin.wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
}

// eventually is siptest.Eventually.
func eventually(d time.Duration, cond func() bool) bool { return siptest.Eventually(d, cond) }

// httpStatus returns the status code of GET url, 0 if there was none.
func httpStatus(url string) int {
	res, err := http.Get(url)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	return res.StatusCode
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// scrape reads the text exposition at url into series name (with its
// labels, as written) and value.
func scrape(t *testing.T, url string) (map[string]float64, string) {
	t.Helper()
	code, body := httpGet(t, url)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", url, code, body)
	}
	m := map[string]float64{}
	for line := range strings.Lines(body) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if i < 0 || err != nil {
			t.Fatalf("bad exposition line %q", line)
		}
		m[line[:i]] = v
	}
	return m, body
}

// sippCmd is sipp calling sipagent at addr over UDP, calls calls at once,
// from dir (where rtp_stream finds audio.wav).
func sippCmd(ctx context.Context, t *testing.T, scenario, addr, dir string, calls int) *exec.Cmd {
	t.Helper()
	bin, err := exec.LookPath("sipp")
	if err != nil {
		t.Fatal("sipp not found: run `make deps` (Debian package sip-tester)")
	}
	scen, err := filepath.Abs(filepath.Join("..", "..", "testdata", "sipp", scenario))
	if err != nil {
		t.Fatal(err)
	}
	n := strconv.Itoa(calls)
	cmd := exec.CommandContext(ctx, bin, "-sf", scen, "-s", "echo",
		"-i", "127.0.0.1", "-mi", "127.0.0.1",
		"-p", strconv.Itoa(freeUDPPort(t)), "-mp", strconv.Itoa(freeEvenUDPPair(t)),
		"-m", n, "-l", n, "-timeout", "40s", "-timeout_error", "-nostdin", addr)
	cmd.Dir = dir
	return cmd
}

// freeEvenUDPPair returns an even UDP port whose successor is free too,
// for sipp's media (RTP + RTCP).
func freeEvenUDPPair(t *testing.T) int { return siptest.FreeEvenPorts(t, "127.0.0.1", 2) }

// writeToneWAV writes 2 s of a 440 Hz tone as the mu-law WAV sipp's
// rtp_stream plays.
func writeToneWAV(t *testing.T, path string) {
	t.Helper()
	pcm := make([]int16, 2*media.SampleRate)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/media.SampleRate))
	}
	siptest.WriteUlawWAV(t, path, pcm)
}

func lastLines(b []byte, n int) string {
	lines := bytes.Split(b, []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
