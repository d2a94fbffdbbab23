package sip_test

import (
	"context"
	"math"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	siplib "github.com/emiago/sipgo/sip"
	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/media"
)

// onBridgeAgent forwards the call before answering it (an
// agent.AnswerDeferrer), as TwiML <Dial answerOnBridge="true"> does, and
// reports the result; a failed transfer leaves the call unanswered, so
// the caller is refused.
type onBridgeAgent struct {
	req     agent.TransferRequest
	results chan agent.TransferResult
}

func (a *onBridgeAgent) DeferAnswer(agent.Info) bool { return true }

func (a *onBridgeAgent) Serve(ctx context.Context, call agent.Call) error {
	res, err := call.Transfer(ctx, a.req)
	if err != nil {
		res.Status = "error: " + err.Error()
	}
	a.results <- res
	return nil
}

// rtpEar collects the audio that arrives on an RTP socket, decoded, and
// notes how much had arrived at a moment the test marks.
type rtpEar struct {
	conn *net.UDPConn
	done chan struct{}

	mu      sync.Mutex
	pcm     []int16
	packets int
	marked  int // packets when mark was called
}

func listenEar(t *testing.T) *rtpEar {
	e := &rtpEar{conn: listenRTP(t), done: make(chan struct{})}
	go func() {
		defer close(e.done)
		buf := make([]byte, 1500)
		pcm := make([]int16, 1500)
		for {
			n, err := e.conn.Read(buf)
			if err != nil {
				return
			}
			if n < 12 || buf[1]&0x7f != 0 {
				continue // PCMU audio only
			}
			k := media.PCMU.Decode(pcm, buf[12:n])
			e.mu.Lock()
			e.pcm = append(e.pcm, pcm[:k]...)
			e.packets++
			e.mu.Unlock()
		}
	}()
	t.Cleanup(func() { _ = e.conn.Close(); <-e.done })
	return e
}

func (e *rtpEar) port() int { return e.conn.LocalAddr().(*net.UDPAddr).Port }

func (e *rtpEar) mark() {
	e.mu.Lock()
	e.marked = e.packets
	e.mu.Unlock()
}

// heard returns the audio so far and the packets counted at mark.
func (e *rtpEar) heard() ([]int16, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]int16(nil), e.pcm...), e.marked
}

// With answerOnBridge the caller is not answered while the target rings:
// it gets 183 with SDP and hears the target's early media (an
// announcement) through sipagent before the 200 comes, when the target
// answers.
func TestAnswerOnBridgeRelaysEarlyMedia(t *testing.T) {
	dir := t.TempDir()
	announcement := testSignal()[:media.SampleRate] // 1 s, inside the 1.5 s of ringing
	writeUlawWAV(t, filepath.Join(dir, "early.wav"), announcement)
	uri := sippTargetIn(t, dir, "uas_early_audio.xml")
	ag := &onBridgeAgent{req: agent.TransferRequest{Target: uri, Mode: "bridge", AnswerOnBridge: true}, results: make(chan agent.TransferResult, 1)}
	srv := startServer(t, map[string]agent.Agent{"xfer": ag}, withTransfer(t, "sip:sales@127.0.0.1"))

	ear := listenEar(t)
	p := dialRaw(t, srv, "udp")
	inv := rawReq{Method: "INVITE", User: "xfer", Body: rawOffer(ear.port(), "0", "a=rtpmap:0 PCMU/8000")}
	p.send(p.text(&inv))
	ok, before := p.finalAfter(&inv)
	ear.mark()
	if ok.StatusCode != 200 {
		t.Fatalf("INVITE: %d %s, want 200 once the target answers", ok.StatusCode, ok.Reason)
	}
	var progress *siplib.Response
	for _, m := range before {
		if r, isRes := m.(*siplib.Response); isRes && r.StatusCode == 183 {
			progress = r
		}
	}
	if progress == nil || len(progress.Body()) == 0 {
		t.Fatalf("no 183 with SDP before the 200; got %d messages first", len(before))
	}
	call := &rawCall{p: p, inv: inv, ok: ok}
	call.ack()

	pcm, early := ear.heard()
	if early < 25 {
		t.Fatalf("%d RTP packets before the answer, want the announcement (50)", early)
	}
	piece := g711(media.PCMU, announcement)[samples(200*time.Millisecond):samples(700*time.Millisecond)]
	corr, lag := bestCorrelation(pcm[:early*media.FrameSamples], piece)
	t.Logf("caller heard the target's early media before the answer: %d packets, correlation %.3f at %.3f s", early, corr, float64(lag)/media.SampleRate)
	if corr < 0.9 {
		t.Errorf("early media did not reach the caller: correlation %.3f", corr)
	}

	if res := call.bye(); res.StatusCode != 200 {
		t.Errorf("BYE: %d", res.StatusCode)
	}
	if res := <-ag.results; res.Status != "completed" {
		t.Errorf("transfer result %+v, want completed", res)
	}
	waitIdle(t, srv)
}

// With answerOnBridge and a busy target, the caller is never answered:
// it hears 180 while the target is tried, and the agent, having nothing
// else to do, leaves the call to be refused with 480.
func TestAnswerOnBridgeBusyRefusesCaller(t *testing.T) {
	uri := sippTarget(t, "uas_busy.xml")
	ag := &onBridgeAgent{req: agent.TransferRequest{Target: uri, Mode: "bridge", AnswerOnBridge: true}, results: make(chan agent.TransferResult, 1)}
	srv := startServer(t, map[string]agent.Agent{"xfer": ag}, withTransfer(t, "sip:sales@127.0.0.1"))
	ear := listenEar(t)
	p := dialRaw(t, srv, "udp")
	inv := rawReq{Method: "INVITE", User: "xfer", Body: rawOffer(ear.port(), "0", "a=rtpmap:0 PCMU/8000")}
	p.send(p.text(&inv))
	res := p.final(&inv)
	if res.StatusCode != 480 {
		t.Errorf("caller got %d %s, want 480 after the target was busy", res.StatusCode, res.Reason)
	}
	if r := <-ag.results; r.Status != "busy" || r.SIPCode != 486 {
		t.Errorf("transfer result %+v, want busy 486", r)
	}
	waitIdle(t, srv)
}

// A caller already talking to the agent hears a ringback tone (440 Hz +
// 480 Hz) while a target that sends no early media rings.
func TestBridgeRingbackWhileTargetRings(t *testing.T) {
	uri := sippTarget(t, "uas_ring_answer.xml", "-rtp_echo")
	results := make(chan agent.TransferResult, 1)
	srv := startServer(t, map[string]agent.Agent{"xfer": transferAgent(uri, "bridge", results)},
		withTransfer(t, "sip:sales@127.0.0.1"))
	ear := listenEar(t)
	p := dialRaw(t, srv, "udp")
	call := p.invite("xfer", ear.port())
	call.ack()
	// The caller sends a 1 kHz tone, which the target echoes once it
	// answers after 1.5 s of ringing; the first second of sound the
	// caller hears before that is the ringback.
	stop := make(chan struct{})
	go rtpTone(ear.conn, call.rtp, stop)
	var pcm []int16
	bridged := eventually(10*time.Second, func() bool { pcm, _ = ear.heard(); return toneAt(pcm, 1000) })
	close(stop)
	if !bridged {
		t.Fatal("the caller's audio never came back through the bridge")
	}
	start := firstSound(pcm)
	if start < 0 || len(pcm) < start+samples(time.Second) {
		t.Fatalf("caller heard no second of sound before the bridge (%d samples, sound from %d)", len(pcm), start)
	}
	tone := pcm[start : start+samples(time.Second)]
	// A tone of N samples has Goertzel power N/2 times its energy: the
	// two frequencies should carry nearly all of it.
	var energy float64
	for _, v := range tone {
		energy += float64(v) * float64(v)
	}
	share := (goertzel(tone, 440) + goertzel(tone, 480)) / (energy * float64(len(tone)) / 2)
	t.Logf("ringback: %.0f%% of the first second's energy at 440 Hz and 480 Hz", 100*share)
	if share < 0.8 {
		t.Errorf("caller did not hear a 440+480 Hz ringback: %.0f%% of the energy there", 100*share)
	}
	if res := call.bye(); res.StatusCode != 200 {
		t.Errorf("BYE: %d", res.StatusCode)
	}
	if res := <-results; res.Status != "completed" {
		t.Errorf("transfer result %+v, want completed", res)
	}
	waitIdle(t, srv)
}

// firstSound returns the index of the first sample louder than -30 dBFS,
// or -1.
func firstSound(pcm []int16) int {
	for i, v := range pcm {
		if v > 1000 || v < -1000 {
			return i
		}
	}
	return -1
}

// toneAt reports whether the last 100 ms of pcm are mostly a tone at f
// (Hz): most of their energy is at f. (A pure tone of N samples has
// Goertzel power N/2 times its energy.)
func toneAt(pcm []int16, f float64) bool {
	n := samples(100 * time.Millisecond)
	if len(pcm) < n {
		return false
	}
	w := pcm[len(pcm)-n:]
	var energy float64
	for _, v := range w {
		energy += float64(v) * float64(v)
	}
	return energy > 0 && goertzel(w, f) > 0.5*energy*float64(n)/2
}

// goertzel returns the power of pcm at frequency f (Hz).
func goertzel(pcm []int16, f float64) float64 {
	w := 2 * math.Pi * f / media.SampleRate
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range pcm {
		s := float64(v) + coeff*s1 - s2
		s2, s1 = s1, s
	}
	return s1*s1 + s2*s2 - coeff*s1*s2
}

// timeLimit ends a bridge on its own: the transfer returns to the agent,
// which hangs up, and both legs get a BYE.
func TestBridgeTimeLimit(t *testing.T) {
	uri := sippTarget(t, "uas_answer.xml", "-key", "codec", "0", "-key", "codecname", "PCMU")
	results := make(chan agent.TransferResult, 1)
	ag := transferAgentReq(agent.TransferRequest{Target: uri, Mode: "bridge", TimeLimit: time.Second}, results)
	srv := startServer(t, map[string]agent.Agent{"xfer": ag}, withTransfer(t, "sip:sales@127.0.0.1"))
	if out, err := runSipp(t, srv, sippRun{Scenario: "uac_wait_bye.xml", User: "xfer"}); err != nil {
		t.Fatalf("caller: %v\n%s", err, out)
	}
	if res := <-results; res.Status != "completed" {
		t.Errorf("transfer result %+v, want completed", res)
	}
	waitIdle(t, srv)
}

// hangupOnStar: the caller presses * and is back with the agent, which
// tells it so by hanging up; the target's leg is ended with BYE.
func TestBridgeHangupOnStar(t *testing.T) {
	uri := sippTarget(t, "uas_answer.xml", "-rtp_echo", "-key", "codec", "0", "-key", "codecname", "PCMU")
	results := make(chan agent.TransferResult, 1)
	back := make(chan struct{})
	ag := agent.AgentFunc(func(ctx context.Context, call agent.Call) error {
		res, err := call.Transfer(ctx, agent.TransferRequest{Target: uri, Mode: "bridge", HangupOnStar: true})
		if err != nil {
			res.Status = "error: " + err.Error()
		}
		results <- res
		close(back)
		return nil
	})
	srv := startServer(t, map[string]agent.Agent{"xfer": ag}, withTransfer(t, "sip:sales@127.0.0.1"))
	ear := listenEar(t)
	p := dialRaw(t, srv, "udp")
	call := p.invite("xfer", ear.port())
	call.ack()
	// The target echoes RTP: once the caller's 1 kHz tone comes back,
	// the bridge is up.
	stop := make(chan struct{})
	go rtpTone(ear.conn, call.rtp, stop)
	if !eventually(10*time.Second, func() bool { pcm, _ := ear.heard(); return toneAt(pcm, 1000) }) {
		close(stop)
		t.Fatal("the caller's audio never came back through the bridge")
	}
	close(stop)
	pressKey(t, ear.conn, call.rtp, '*')
	select {
	case <-back:
	case <-time.After(10 * time.Second):
		t.Fatal("pressing * did not return the caller to the agent")
	}
	if res := <-results; res.Status != "completed" {
		t.Errorf("transfer result %+v, want completed", res)
	}
	bye, _ := p.awaitRequest("BYE", rawWait)
	p.reply(bye, 200, "OK")
	waitIdle(t, srv)
}

// pressKey sends one RFC 4733 key press from conn to dst, as a phone
// does: the event packets at 20 ms intervals, the end packet three times.
func pressKey(t *testing.T, conn *net.UDPConn, dst interface{ String() string }, key rune) {
	t.Helper()
	pkts, err := media.AppendDigitPackets(nil, key, 100*time.Millisecond, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := net.ResolveUDPAddr("udp", dst.String())
	if err != nil {
		t.Fatal(err)
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i, dp := range pkts {
		payload := make([]byte, 4)
		dp.Event.MarshalTo(payload)
		pkt := rtpPacket(101, uint16(1000+i), 16000, 0x5eed, payload)
		if dp.Marker {
			pkt[1] |= 0x80
		}
		if _, err := conn.WriteToUDP(pkt, addr); err != nil {
			t.Fatal(err)
		}
		<-tick.C
	}
}
