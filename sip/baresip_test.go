package sip_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/echo"
	"github.com/sipagent/sipagent/media"
	"github.com/sipagent/sipagent/media/wav"
	"github.com/sipagent/sipagent/sip"
)

// These tests call sipagent from baresip, a real softphone, running
// headless: its microphone is a WAV file (aufile), what it hears is
// written to a WAV file (sndfile's dump-*-dec.wav), and it is driven
// through its stdio console. Written against baresip 1.0.0 (Debian).
//
// Two baresip 1.0 behaviours the tests rely on:
//   - When the aufile microphone reaches the end of its file, baresip
//     hangs the call up ("menu: audio error (0,end of file)"). The length
//     of the microphone file is therefore the length of a call the phone
//     ends, and no test needs a timer to hang up.
//   - A digit typed on the console during a call is sent as an RFC 4733
//     telephone-event ("audio: send DTMF digit: '3'"); the stdio module
//     releases the key by itself ("send DTMF digit end").

// baresipTimeout bounds each baresip test; its calls last a few seconds.
const baresipTimeout = 30 * time.Second

// baresipModules is where Debian installs baresip's modules.
const baresipModules = "/usr/lib/baresip/modules"

// phoneConfig is what a baresip test varies.
type phoneConfig struct {
	Dial string // URI dialled at start; empty dials nothing
	// Account replaces the account line's parameters after the AOR
	// (default: no registration); AOR replaces sip:test@127.0.0.1.
	AOR     string
	Account string
	// Calls is how many calls at once need RTP ports (a transfer makes a
	// second one); default 1.
	Calls  int
	Codecs string  // the account's audio_codecs; default "PCMU,PCMA"
	Mic    []int16 // the microphone, 8 kHz; the call ends where it ends
	// CAFile, when set, is the authority baresip trusts for TLS
	// (sip_cafile), in place of the system's.
	CAFile string
}

// phone is one running baresip process. Its output is kept line by line
// so that a test can wait for the lines that mark call events.
type phone struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	sndDir string

	mu    sync.Mutex
	lines []string
	grew  chan struct{} // closed and replaced when a line arrives

	eof    chan struct{} // closed when the output ends
	exited chan struct{} // closed when the process has been waited for
	err    error         // from Wait; read after exited
}

// startBaresip runs baresip with a fresh configuration directory that
// loads only what the tests need: G.711, aufile as the microphone,
// sndfile to record, aubridge as a speaker that plays nowhere, and the
// stdio console. The account does not register. baresip is killed and
// waited for when the test ends.
func startBaresip(t *testing.T, ctx context.Context, pc phoneConfig) *phone {
	t.Helper()
	bin, err := exec.LookPath("baresip")
	if err != nil {
		t.Fatal("baresip not found: run `make deps` (Debian package baresip)")
	}
	if pc.Codecs == "" {
		pc.Codecs = "PCMU,PCMA"
	}
	if pc.AOR == "" {
		pc.AOR = "sip:test@127.0.0.1"
	}
	if pc.Account == "" {
		pc.Account = "regint=0"
	}
	dir := t.TempDir()
	snd := filepath.Join(dir, "snd")
	if err := os.Mkdir(snd, 0o755); err != nil {
		t.Fatal(err)
	}
	var mic bytes.Buffer
	if err := wav.Encode(&mic, pc.Mic, media.SampleRate); err != nil {
		t.Fatal(err)
	}
	micPath := filepath.Join(dir, "mic.wav")
	rtp := freeEvenPortsOn(t, "127.0.0.1", 2*max(pc.Calls, 1))
	// net_interface takes the address: libre finds no usable "lo"
	// ("net: lo: could not get IPv4 address"). sip_listen port 0 lets the
	// OS choose; rtp_ports is an even pair the OS just had free.
	config := fmt.Sprintf(`# Written by sip/baresip_test.go.
poll_method	epoll
net_interface	127.0.0.1
sip_listen	127.0.0.1:0
rtp_ports	%d-%d
audio_source	aufile,%s
audio_player	aubridge,speaker
audio_alert	aubridge,speaker
ausrc_srate	8000
auplay_srate	8000
ausrc_channels	1
auplay_channels	1
snd_path	%s
module_path	%s
module	stdio.so
module	g711.so
module	aufile.so
module	aubridge.so
module	sndfile.so
module_app	account.so
module_app	menu.so
`, rtp, rtp+2*max(pc.Calls, 1)-1, micPath, snd, baresipModules)
	if pc.CAFile != "" {
		config += "sip_cafile\t" + pc.CAFile + "\n"
	}
	files := map[string]string{
		"config":   config,
		"accounts": "<" + pc.AOR + ">;" + pc.Account + ";audio_codecs=" + pc.Codecs + "\n",
		"contacts": "",
		"mic.wav":  mic.String(),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// -t quits baresip even if the test's own waits go wrong.
	limit := strconv.Itoa(int(baresipTimeout / time.Second))
	args := []string{"-f", dir, "-t", limit}
	if pc.Dial != "" {
		args = append(args, "-e", "/dial "+pc.Dial)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	p := &phone{
		cmd: cmd, stdin: stdin, sndDir: snd,
		grew: make(chan struct{}), eof: make(chan struct{}), exited: make(chan struct{}),
	}
	if err := cmd.Start(); err != nil {
		_ = r.Close()
		_ = w.Close()
		t.Fatal(err)
	}
	_ = w.Close() // the child holds the write end now; EOF when it exits
	go p.read(r)
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = stdin.Close()
		select {
		case <-p.exited:
		default:
			_ = cmd.Process.Kill()
			<-p.exited
		}
		<-p.eof
		_ = r.Close()
		if t.Failed() {
			t.Logf("baresip output:\n%s", p.output())
		}
	})
	return p
}

// read keeps baresip's output lines. The console rewrites its status
// line with carriage returns, so both \r and \n end a line; the status
// lines themselves ("[0:00:01] audio=64000/64000 (bit/s)") are dropped.
func (p *phone) read(r io.Reader) {
	defer close(p.eof)
	sc := bufio.NewScanner(r)
	sc.Split(scanCRLF)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasSuffix(line, "(bit/s)") {
			continue
		}
		p.mu.Lock()
		p.lines = append(p.lines, line)
		close(p.grew)
		p.grew = make(chan struct{})
		p.mu.Unlock()
	}
	// A scan error (a line over 64 KiB) only ends the record early; the
	// pipe is drained so that baresip never blocks writing to it.
	_, _ = io.Copy(io.Discard, r)
}

// scanCRLF is bufio.ScanLines with \r also ending a line.
func scanCRLF(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// waitLine waits until baresip has printed a line containing s, and
// returns that line.
func (p *phone) waitLine(ctx context.Context, s string) (string, error) {
	for {
		p.mu.Lock()
		for _, l := range p.lines {
			if strings.Contains(l, s) {
				p.mu.Unlock()
				return l, nil
			}
		}
		grew := p.grew
		p.mu.Unlock()
		select {
		case <-grew:
		case <-p.eof:
			// Lines read before EOF are all in p.lines by now.
			if l, ok := p.find(s); ok {
				return l, nil
			}
			return "", fmt.Errorf("baresip exited without printing %q", s)
		case <-ctx.Done():
			return "", fmt.Errorf("waiting for baresip to print %q: %w", s, ctx.Err())
		}
	}
}

func (p *phone) find(s string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.lines {
		if strings.Contains(l, s) {
			return l, true
		}
	}
	return "", false
}

func (p *phone) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// mustWait is waitLine for the test goroutine: it fails the test.
func (p *phone) mustWait(t *testing.T, ctx context.Context, s string) string {
	t.Helper()
	l, err := p.waitLine(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// typeKeys writes s to baresip's console.
func (p *phone) typeKeys(t *testing.T, s string) {
	t.Helper()
	if _, err := io.WriteString(p.stdin, s); err != nil {
		t.Fatalf("typing %q to baresip: %v", s, err)
	}
}

// quit asks baresip to exit and waits until it has: only then are its
// recordings complete (sndfile fills in the WAV sizes when it closes).
func (p *phone) quit(t *testing.T, ctx context.Context) {
	t.Helper()
	p.typeKeys(t, "/quit\n")
	select {
	case <-p.exited:
	case <-ctx.Done():
		t.Fatalf("baresip did not quit: %v", ctx.Err())
	}
	if p.err != nil {
		t.Fatalf("baresip: %v", p.err)
	}
}

// heard returns what baresip received in its one call, as decoded by
// its G.711 decoder. Call it after quit.
func (p *phone) heard(t *testing.T) []int16 {
	t.Helper()
	dumps, err := filepath.Glob(filepath.Join(p.sndDir, "dump-*-dec.wav"))
	if err != nil || len(dumps) != 1 {
		t.Fatalf("want one received-audio dump in %s, found %v (%v)", p.sndDir, dumps, err)
	}
	pcm, err := wav.Load(dumps[0])
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}

// g711 returns pcm as it sounds after coding with c.
func g711(c media.Codec, pcm []int16) []int16 {
	enc := make([]byte, len(pcm))
	c.Encode(enc, pcm)
	out := make([]int16, len(pcm))
	c.Decode(out, enc)
	return out
}

func rms(pcm []int16) float64 {
	var sum float64
	for _, v := range pcm {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(max(len(pcm), 1)))
}

func samples(d time.Duration) int { return int(d * media.SampleRate / time.Second) }

// codecSpy passes calls to an agent and reports each call's codec.
func codecSpy(inner agent.Agent, codec chan<- string) agent.Agent {
	return agent.AgentFunc(func(ctx context.Context, call agent.Call) error {
		select {
		case codec <- call.Info().Codec:
		default:
		}
		return inner.Serve(ctx, call)
	})
}

func baresipContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), baresipTimeout)
	t.Cleanup(cancel)
	return ctx
}

func dialURI(srv *sip.Server, user string) string {
	return "sip:" + user + "@" + srv.Addr("udp").String()
}

// A softphone calling the demo hears the greeting: speech, not silence,
// and the greeting prompt itself, through either G.711 law.
func TestBaresipHearsGreeting(t *testing.T) {
	greeting, err := wav.Load(filepath.Join("..", "agent", "flow", "demo", "greeting.wav"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []media.Codec{media.PCMU, media.PCMA} {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			ctx := baresipContext(t)
			codec := make(chan string, 1)
			srv := startServer(t, map[string]agent.Agent{"demo": codecSpy(demoAgent(t), codec)})
			// 4 s of silence as the microphone: the greeting (1.8 s) and
			// the start of the menu, then baresip hangs up.
			ph := startBaresip(t, ctx, phoneConfig{
				Dial:   dialURI(srv, "demo"),
				Codecs: c.Name,
				Mic:    make([]int16, samples(4*time.Second)),
			})
			ph.mustWait(t, ctx, "Call established")
			ph.mustWait(t, ctx, "terminated")
			ph.quit(t, ctx)
			waitIdle(t, srv)
			select {
			case got := <-codec:
				if got != c.Name {
					t.Errorf("server answered with %s, want %s", got, c.Name)
				}
			default:
				t.Error("the demo agent never ran")
			}

			got := ph.heard(t)
			level, ref := rms(got), rms(greeting)
			t.Logf("heard %.2f s, RMS %.0f (greeting.wav RMS %.0f)", float64(len(got))/media.SampleRate, level, ref)
			// Silence decodes to 0 (PCMU) or +-8 (PCMA); a quarter of the
			// prompt's own level (-12 dB) leaves room for the pauses.
			if level < ref/4 {
				t.Errorf("baresip heard RMS %.0f, want speech (at least %.0f)", level, ref/4)
			}
			// One second from inside the greeting, as G.711 codes it, must
			// turn up in what baresip heard, at most 1 s later than it
			// comes in the prompt. 0.9 allows a few lost or concealed
			// packets in that second; loopback loses none.
			piece := g711(c, greeting)[samples(250*time.Millisecond):samples(1250*time.Millisecond)]
			search := got[:min(len(got), len(piece)+samples(time.Second))]
			corr, lag := bestCorrelation(search, piece)
			t.Logf("greeting correlation %.3f at %.3f s (piece starts 0.250 s into the prompt)", corr, float64(lag)/media.SampleRate)
			if corr < 0.9 {
				t.Errorf("greeting not found in what baresip heard: correlation %.3f", corr)
			}
		})
	}
}

// A softphone calling the echo agent hears itself: its microphone, a
// chirp, comes back after the echo delay.
func TestBaresipEcho(t *testing.T) {
	ctx := baresipContext(t)
	const delay = 100 * time.Millisecond
	srv := startServer(t, map[string]agent.Agent{"echo": echo.New(delay)})
	// Half a second of silence, the 2 s chirp, then 1.5 s for it to come
	// back before baresip hangs up.
	lead := samples(500 * time.Millisecond)
	sig := testSignal()
	mic := make([]int16, lead+len(sig)+samples(1500*time.Millisecond))
	copy(mic[lead:], sig)
	ph := startBaresip(t, ctx, phoneConfig{Dial: dialURI(srv, "echo"), Codecs: "PCMU", Mic: mic})
	ph.mustWait(t, ctx, "Call established")
	ph.mustWait(t, ctx, "terminated")
	ph.quit(t, ctx)
	waitIdle(t, srv)

	got := ph.heard(t)
	// The middle second of the chirp, coded with PCMU twice (on the way
	// in and on the way out; decoding and re-encoding a PCMU sample
	// changes nothing, so once is the same).
	from := samples(500 * time.Millisecond)
	piece := g711(media.PCMU, sig)[from : from+samples(time.Second)]
	// Where the piece started in the microphone; it is looked for up to
	// a second later than that. What baresip heard starts with the first
	// packet it received, about when its microphone started.
	sent := lead + from
	if len(got) < sent+len(piece) {
		t.Fatalf("baresip heard only %d samples", len(got))
	}
	search := got[sent:min(len(got), sent+len(piece)+samples(time.Second))]
	corr, lag := bestCorrelation(search, piece)
	// How much later it was heard: the echo delay plus both directions'
	// buffering.
	rtt := time.Duration(lag) * time.Second / media.SampleRate
	t.Logf("heard %.2f s, RMS %.0f; chirp correlation %.3f, back after %v", float64(len(got))/media.SampleRate, rms(got), corr, rtt)
	// The chirp correlates with itself sharply, only at lag 0 (see
	// testSignal): silence, other audio or the chirp garbled scores far
	// lower. 0.9 allows a few lost or concealed packets in the second.
	if corr < 0.9 {
		t.Errorf("baresip did not hear its own audio: correlation %.3f", corr)
	}
	if rtt < delay || rtt > delay+time.Second {
		t.Errorf("echo came back after %v, want the %v delay plus under 1 s of buffering", rtt, delay)
	}
}

// A softphone presses 3 in the demo menu: the digit reaches the flow
// as RFC 4733 telephone-events, the demo says goodbye and sipagent hangs
// up with BYE.
func TestBaresipDTMFMenu(t *testing.T) {
	ctx := baresipContext(t)
	spy := &digitSpy{inner: demoAgent(t)}
	srv := startServer(t, map[string]agent.Agent{"demo": spy})
	// The microphone outlasts the call, so only sipagent can end it.
	ph := startBaresip(t, ctx, phoneConfig{
		Dial: dialURI(srv, "demo"),
		Mic:  make([]int16, samples(20*time.Second)),
	})
	ph.mustWait(t, ctx, "Call established")
	// Press once the demo's audio is arriving, during the greeting.
	ph.mustWait(t, ctx, "incoming rtp for 'audio' established")
	pressed := time.Now()
	ph.typeKeys(t, "3")
	ph.mustWait(t, ctx, "send DTMF digit end: '3'")
	// baresip 1.0 reports a BYE from the peer as "session closed: ..."
	// and its own hangups without it.
	ph.mustWait(t, ctx, "session closed")
	ph.mustWait(t, ctx, "terminated")
	t.Logf("sipagent hung up %v after the key press", time.Since(pressed).Round(time.Millisecond))
	waitIdle(t, srv)
	if got := spy.seen(); got != "3" {
		t.Errorf("digits seen by the agent = %q, want 3", got)
	}
	ph.quit(t, ctx)
}
