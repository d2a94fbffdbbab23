package sip_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sipagent/sipagent/sip/siptest"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/media"
	"github.com/sipagent/sipagent/sip"
)

// The integration tests drive a real sip.Server on loopback with sipp and
// baresip. They fail, never skip, when a peer is missing: `make test`
// installs them (see .ci/deps).

// rtpLo-rtpHi is this package's RTP port range. Fixed test ranges sit
// below Linux's ephemeral range (32768-60999), so that no OS-assigned
// port (sipp, baresip, ":0" sockets) can take them, and each package has
// its own (media 21000s, sip 22000-23999, cmd 24000s) so that `go test
// ./...` can run packages in parallel.
const rtpLo, rtpHi = 22000, 23999

type serverOpt func(*sip.Config)

var loopbackPeer = sip.Peer{Name: "loopback", Nets: []netip.Prefix{
	netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}

func withRingTime(d time.Duration) serverOpt { return func(c *sip.Config) { c.RingTime = d } }
func withMaxCalls(n int) serverOpt           { return func(c *sip.Config) { c.MaxCalls = n } }
func withRTPTimeout(d time.Duration) serverOpt {
	return func(c *sip.Config) { c.RTPTimeout = d }
}

// startServer runs a server on 127.0.0.1 with OS-assigned UDP and TCP
// ports, routing Request-URI users to agents. It is closed at test end.
func startServer(t *testing.T, agents map[string]agent.Agent, opts ...serverOpt) *sip.Server {
	t.Helper()
	ports, err := media.NewPortPool(rtpLo, rtpHi, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	var routes sip.Routes
	for user, a := range agents {
		routes = append(routes, sip.Route{Name: user, User: user, Agent: a})
	}
	cfg := sip.Config{
		Listeners: []sip.Listener{{Transport: "udp", Addr: "127.0.0.1:0"}, {Transport: "tcp", Addr: "127.0.0.1:0"}},
		Ports:     ports,
		Router:    routes,
		Logger:    testLogger(t),
		// The call-path tests are about calls, not admission: loopback
		// is a trusted peer unless a test says otherwise.
		Peers: []sip.Peer{loopbackPeer},
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := sip.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// testLogger sends log records to the test log (siptest.Logger).
func testLogger(t *testing.T) *slog.Logger { return siptest.Logger(t, slog.LevelWarn) }

// waitIdle waits until the server has no calls left, and checks that
// they left no RTP port behind.
func waitIdle(t *testing.T, srv *sip.Server) {
	t.Helper()
	if !eventually(10*time.Second, func() bool { return srv.ActiveCalls() == 0 }) {
		t.Fatalf("%d calls still active", srv.ActiveCalls())
	}
	if n := srv.RTPPortsInUse(); n != 0 {
		t.Errorf("%d RTP ports still held with no call active", n)
	}
}

// eventually is siptest.Eventually.
func eventually(d time.Duration, cond func() bool) bool { return siptest.Eventually(d, cond) }

// freePortOn is siptest.FreePort.
func freePortOn(t *testing.T, network, host string) int { return siptest.FreePort(t, network, host) }

// freeEvenPortPair returns an even UDP port whose successor is free too,
// for sipp's media (RTP + RTCP).
func freeEvenPortPair(t *testing.T) int { return freeEvenPortPairOn(t, "127.0.0.1") }

// freeEvenPortPairOn is freeEvenPortPair on host.
func freeEvenPortPairOn(t *testing.T, host string) int { return siptest.FreeEvenPorts(t, host, 2) }

// freeEvenPortsOn is siptest.FreeEvenPorts.
func freeEvenPortsOn(t *testing.T, host string, n int) int { return siptest.FreeEvenPorts(t, host, n) }

// sippRun is one sipp caller run.
type sippRun struct {
	Scenario  string // file name in testdata/sipp
	User      string // Request-URI user (sipp -s)
	Transport string // "udp" (default) or "tcp"
	Dir       string // working directory (for rtp_stream files); default a temp dir
	Calls     int    // default 1
	Local     string // local address for signalling and media; default 127.0.0.1
	Target    string // host:port to send to; default srv's listener
	Extra     []string
}

// runSipp runs sipp against srv and returns its combined output; it fails
// the test if sipp reports a failed call, unless wantFail is set.
func runSipp(t *testing.T, srv *sip.Server, r sippRun) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := sippCmd(ctx, t, srv, r)
	out, err := cmd.CombinedOutput()
	return sippOutput(out, err, cmd.Dir)
}

// sippCmd builds the sipp command for one run against srv, bounded by ctx
// and by sipp's own -timeout.
func sippCmd(ctx context.Context, t *testing.T, srv *sip.Server, r sippRun) *exec.Cmd {
	t.Helper()
	bin, err := exec.LookPath("sipp")
	if err != nil {
		t.Fatal("sipp not found: run `make deps` (Debian package sip-tester)")
	}
	scen, err := filepath.Abs(filepath.Join("..", "testdata", "sipp", r.Scenario))
	if err != nil {
		t.Fatal(err)
	}
	if r.Transport == "" {
		r.Transport = "udp"
	}
	if r.Calls == 0 {
		r.Calls = 1
	}
	if r.Dir == "" {
		r.Dir = t.TempDir()
	}
	if r.Local == "" {
		r.Local = "127.0.0.1"
	}
	args := []string{
		"-sf", scen, "-s", r.User,
		"-i", r.Local, "-mi", r.Local,
		"-p", strconv.Itoa(freePortOn(t, r.Transport, r.Local)),
		"-mp", strconv.Itoa(freeEvenPortPairOn(t, r.Local)),
		"-m", strconv.Itoa(r.Calls), "-l", strconv.Itoa(r.Calls),
		"-timeout", "40s", "-timeout_error", "-nostdin",
		"-trace_err", "-error_file", filepath.Join(r.Dir, sippErrorLog),
	}
	if r.Transport == "tcp" {
		args = append(args, "-t", "t1")
	}
	args = append(args, r.Extra...)
	if r.Target == "" {
		r.Target = srv.Addr(r.Transport).String()
	}
	args = append(args, r.Target)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = r.Dir
	return cmd
}

const sippErrorLog = "errors.log"

// sippOutput turns a finished sipp run into its output, with the tail of
// its screen and its error log when it failed.
func sippOutput(out []byte, err error, dir string) (string, error) {
	if err != nil {
		errs, _ := os.ReadFile(filepath.Join(dir, sippErrorLog))
		return fmt.Sprintf("%s\n--- sipp errors:\n%s", lastLines(out, 40), errs), err
	}
	return string(out), nil
}

func lastLines(b []byte, n int) string {
	lines := bytes.Split(b, []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// recorder is an agent that keeps what it hears and the digits pressed,
// and plays nothing. Tests read its results after the call.
type recorder struct {
	mu      sync.Mutex
	pcm     []int16
	digits  []rune
	info    agent.Info
	started chan struct{} // closed when the call reaches the agent
	done    chan struct{}
}

func newRecorder() *recorder {
	return &recorder{started: make(chan struct{}), done: make(chan struct{})}
}

func (r *recorder) Serve(ctx context.Context, call agent.Call) error {
	defer close(r.done)
	r.mu.Lock()
	r.info = call.Info()
	r.mu.Unlock()
	close(r.started)
	go func() {
		for d := range call.DTMF() {
			r.mu.Lock()
			r.digits = append(r.digits, d)
			r.mu.Unlock()
		}
	}()
	frame := make([]int16, agent.FrameSamples)
	for {
		n, err := call.ReadAudio(ctx, frame)
		if err != nil {
			return nil
		}
		r.mu.Lock()
		r.pcm = append(r.pcm, frame[:n]...)
		r.mu.Unlock()
	}
}

func (r *recorder) waitStarted(t *testing.T) {
	t.Helper()
	select {
	case <-r.started:
	case <-time.After(15 * time.Second):
		t.Fatal("call did not reach the agent")
	}
}

func (r *recorder) wait(t *testing.T) {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(15 * time.Second):
		t.Fatal("agent did not finish")
	}
}

// testSignal is a 2 s signal that cross-correlates sharply with itself
// only at lag 0: a chirp sweeping 300-3000 Hz with a rising envelope.
func testSignal() []int16 {
	const n = 2 * media.SampleRate
	out := make([]int16, n)
	for i := range out {
		ts := float64(i) / media.SampleRate
		f := 300 + 1350*ts // Hz, sweeping upward
		env := 0.3 + 0.35*ts
		out[i] = int16(12000 * env * math.Sin(2*math.Pi*f*ts))
	}
	return out
}

// writeUlawWAV is siptest.WriteUlawWAV.
func writeUlawWAV(t *testing.T, path string, pcm []int16) { siptest.WriteUlawWAV(t, path, pcm) }

// bestCorrelation returns the highest normalised cross-correlation of
// want within got over all lags, and the lag.
func bestCorrelation(got, want []int16) (float64, int) {
	best, bestLag := 0.0, 0
	var wantE float64
	for _, v := range want {
		wantE += float64(v) * float64(v)
	}
	for lag := 0; lag+len(want) <= len(got); lag += 1 {
		var dot, gotE float64
		for i, w := range want {
			g := float64(got[lag+i])
			dot += g * float64(w)
			gotE += g * g
		}
		if gotE == 0 {
			continue
		}
		if c := dot / math.Sqrt(gotE*wantE); c > best {
			best, bestLag = c, lag
		}
	}
	return best, bestLag
}
