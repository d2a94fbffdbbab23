package sip_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	siplib "github.com/emiago/sipgo/sip"
	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/media"
	"github.com/sipagent/sipagent/sip"
)

// The robustness tests play broken or hostile peers against a real
// Server on loopback. Most write SIP as text on their own socket
// (rawPeer) so they can send what no SIP stack would; the rest drive
// sipp scenarios named robust_*.xml. Every test ends with the server
// idle, and TestMain checks that nothing was left running.

// rawWait bounds each wait for a message the server should send.
const rawWait = 5 * time.Second

// rawPeer is a SIP peer made of one socket and text: tests build
// requests by hand and read whatever comes back.
type rawPeer struct {
	t         *testing.T
	transport string // "udp" or "tcp"
	conn      net.Conn
	rd        *bufio.Reader // tcp only
	local     netip.AddrPort
	server    netip.AddrPort
}

func dialRaw(t *testing.T, srv *sip.Server, transport string) *rawPeer {
	t.Helper()
	server := srv.Addr(transport)
	conn, err := net.Dial(transport, server.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	local, err := netip.ParseAddrPort(conn.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	p := &rawPeer{t: t, transport: transport, conn: conn, local: local, server: server}
	if transport == "tcp" {
		p.rd = bufio.NewReader(conn)
	}
	return p
}

func (p *rawPeer) send(msg string) {
	p.t.Helper()
	if _, err := p.conn.Write([]byte(msg)); err != nil {
		p.t.Fatalf("send: %v", err)
	}
}

// next returns the next SIP message the server sends, waiting at most d.
func (p *rawPeer) next(d time.Duration) (siplib.Message, error) {
	if err := p.conn.SetReadDeadline(time.Now().Add(d)); err != nil {
		return nil, err
	}
	var raw []byte
	if p.rd == nil {
		buf := make([]byte, 65536)
		n, err := p.conn.Read(buf)
		if err != nil {
			return nil, err
		}
		raw = buf[:n]
	} else {
		var err error
		if raw, err = readStreamMessage(p.rd); err != nil {
			return nil, err
		}
	}
	return siplib.ParseMessage(raw)
}

// readStreamMessage reads one message framed by Content-Length from a
// stream (RFC 3261 s.18.3).
func readStreamMessage(rd *bufio.Reader) ([]byte, error) {
	var b bytes.Buffer
	length := 0
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			return nil, err
		}
		if b.Len() == 0 && line == "\r\n" {
			continue // keep-alive
		}
		b.WriteString(line)
		if line == "\r\n" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if name = strings.TrimSpace(name); ok && (strings.EqualFold(name, "Content-Length") || name == "l") {
			if length, err = strconv.Atoi(strings.TrimSpace(value)); err != nil {
				return nil, err
			}
		}
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(rd, body); err != nil {
		return nil, err
	}
	b.Write(body)
	return b.Bytes(), nil
}

// rawReq is a request to write as text. Empty fields get defaults when
// the request is first written, and keep them, so that an ACK or a BYE
// can be built from the request it follows.
type rawReq struct {
	Method      string
	User        string // Request-URI user; default "rec"
	Version     string // default SIP/2.0
	CallID      string
	FromTag     string
	ToTag       string
	CSeq        int
	Branch      string
	NoContact   bool
	MaxFwd      string   // default 70
	Headers     []string // extra header lines
	ContentType string   // default application/sdp when there is a body
	Body        string
}

func (p *rawPeer) text(r *rawReq) string {
	if r.User == "" {
		r.User = "rec"
	}
	if r.Version == "" {
		r.Version = "SIP/2.0"
	}
	if r.CallID == "" {
		r.CallID = "raw-" + siplib.GenerateBranchN(12)
	}
	if r.FromTag == "" {
		r.FromTag = siplib.GenerateBranchN(8)
	}
	if r.CSeq == 0 {
		r.CSeq = 1
	}
	if r.Branch == "" {
		r.Branch = siplib.GenerateBranch()
	}
	if r.MaxFwd == "" {
		r.MaxFwd = "70"
	}
	to := fmt.Sprintf("<sip:%s@%s>", r.User, p.server)
	if r.ToTag != "" {
		to += ";tag=" + r.ToTag
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s sip:%s@%s %s\r\n", r.Method, r.User, p.server, r.Version)
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s;branch=%s;rport\r\n", strings.ToUpper(p.transport), p.local, r.Branch)
	fmt.Fprintf(&b, "Max-Forwards: %s\r\n", r.MaxFwd)
	fmt.Fprintf(&b, "From: <sip:raw@%s>;tag=%s\r\n", p.local, r.FromTag)
	fmt.Fprintf(&b, "To: %s\r\n", to)
	fmt.Fprintf(&b, "Call-ID: %s\r\n", r.CallID)
	fmt.Fprintf(&b, "CSeq: %d %s\r\n", r.CSeq, r.Method)
	if !r.NoContact {
		fmt.Fprintf(&b, "Contact: <sip:raw@%s;transport=%s>\r\n", p.local, p.transport)
	}
	for _, h := range r.Headers {
		b.WriteString(h + "\r\n")
	}
	if r.Body != "" {
		ct := r.ContentType
		if ct == "" {
			ct = "application/sdp"
		}
		fmt.Fprintf(&b, "Content-Type: %s\r\n", ct)
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(r.Body), r.Body)
	return b.String()
}

// do sends r and returns its final response. A failure response to an
// INVITE is ACKed (RFC 3261 s.17.1.1.3).
func (p *rawPeer) do(r *rawReq) *siplib.Response {
	p.t.Helper()
	p.send(p.text(r))
	return p.final(r)
}

// final waits for the final response to r, skipping provisional
// responses and anything else that arrives meanwhile.
func (p *rawPeer) final(r *rawReq) *siplib.Response {
	p.t.Helper()
	res, _ := p.finalAfter(r)
	return res
}

// finalAfter is final that also returns the messages that came before
// the final response.
func (p *rawPeer) finalAfter(r *rawReq) (*siplib.Response, []siplib.Message) {
	p.t.Helper()
	var before []siplib.Message
	deadline := time.Now().Add(rawWait)
	for {
		msg, err := p.next(time.Until(deadline))
		if err != nil {
			p.t.Fatalf("%s: no final response: %v", r.Method, err)
		}
		res, ok := msg.(*siplib.Response)
		if !ok || res.IsProvisional() || res.CallID() == nil || res.CallID().Value() != r.CallID ||
			res.CSeq() == nil || res.CSeq().SeqNo != uint32(r.CSeq) || string(res.CSeq().MethodName) != r.Method {
			before = append(before, msg)
			continue
		}
		if r.Method == "INVITE" && !res.IsSuccess() {
			p.send(p.ackText(r, res, r.Branch))
		}
		return res, before
	}
}

// ackText builds the ACK for a final response to INVITE r: in the INVITE
// transaction for a failure, a new transaction for a 2xx (s.13.2.2.4).
func (p *rawPeer) ackText(r *rawReq, res *siplib.Response, branch string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ACK sip:%s@%s SIP/2.0\r\n", r.User, p.server)
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s;branch=%s;rport\r\n", strings.ToUpper(p.transport), p.local, branch)
	fmt.Fprintf(&b, "Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: <sip:raw@%s>;tag=%s\r\n", p.local, r.FromTag)
	fmt.Fprintf(&b, "To: %s\r\n", res.To().Value())
	fmt.Fprintf(&b, "Call-ID: %s\r\n", r.CallID)
	fmt.Fprintf(&b, "CSeq: %d ACK\r\nContent-Length: 0\r\n\r\n", r.CSeq)
	return b.String()
}

// awaitRequest waits for a request of method from the server, skipping
// everything else, and returns it with the number of skipped messages.
func (p *rawPeer) awaitRequest(method string, d time.Duration) (*siplib.Request, int) {
	p.t.Helper()
	deadline := time.Now().Add(d)
	skipped := 0
	for {
		msg, err := p.next(time.Until(deadline))
		if err != nil {
			p.t.Fatalf("no %s from the server: %v", method, err)
		}
		if req, ok := msg.(*siplib.Request); ok && string(req.Method) == method {
			return req, skipped
		}
		skipped++
	}
}

// reply answers a request from the server.
func (p *rawPeer) reply(req *siplib.Request, code int, reason string) {
	p.t.Helper()
	p.send(siplib.NewResponseFromRequest(req, code, reason, nil).String())
}

// rawCall is a call the raw peer placed.
type rawCall struct {
	p   *rawPeer
	inv rawReq
	ok  *siplib.Response
	rtp netip.AddrPort // where sipagent receives RTP, from its answer
}

// invite places a call to user offering RTP on rtpPort and returns it
// answered but not yet ACKed.
func (p *rawPeer) invite(user string, rtpPort int) *rawCall {
	p.t.Helper()
	c := &rawCall{p: p, inv: rawReq{Method: "INVITE", User: user, Body: rawOffer(rtpPort, "0 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16")}}
	c.ok = p.do(&c.inv)
	if c.ok.StatusCode != 200 {
		p.t.Fatalf("INVITE: %d %s, want 200", c.ok.StatusCode, c.ok.Reason)
	}
	c.rtp = answerAddr(p.t, c.ok.Body())
	return c
}

func (c *rawCall) ack() { c.p.send(c.p.ackText(&c.inv, c.ok, siplib.GenerateBranch())) }

func (c *rawCall) bye() *siplib.Response {
	c.p.t.Helper()
	tag, _ := c.ok.To().Params.Get("tag")
	return c.p.do(&rawReq{Method: "BYE", User: c.inv.User, CallID: c.inv.CallID, FromTag: c.inv.FromTag, ToTag: tag, CSeq: c.inv.CSeq + 1})
}

// rawOffer is an SDP offer on 127.0.0.1:port with the given formats and
// attribute lines.
func rawOffer(port int, formats string, attrs ...string) string {
	s := "v=0\r\no=raw 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		fmt.Sprintf("m=audio %d RTP/AVP %s\r\n", port, formats)
	for _, a := range attrs {
		s += a + "\r\n"
	}
	return s + "a=ptime:20\r\n"
}

// answerAddr returns the RTP address of an SDP answer.
func answerAddr(t *testing.T, body []byte) netip.AddrPort {
	t.Helper()
	var ip netip.Addr
	port := 0
	for _, l := range strings.Split(string(body), "\n") {
		l = strings.TrimSpace(l)
		if a, ok := strings.CutPrefix(l, "c=IN IP4 "); ok {
			ip, _ = netip.ParseAddr(a)
		}
		if m, ok := strings.CutPrefix(l, "m=audio "); ok {
			port, _ = strconv.Atoi(strings.Fields(m)[0])
		}
	}
	if !ip.IsValid() || port == 0 {
		t.Fatalf("no RTP address in the answer:\n%s", body)
	}
	return netip.AddrPortFrom(ip, uint16(port))
}

func header(res *siplib.Response, name string) string {
	if h := res.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

// ear is an agent that listens to one call: it reports when the call
// starts, when it first hears sound, and when the call ends.
type ear struct {
	started, heard, done chan struct{}
	heardOnce            sync.Once
}

func newEar() *ear {
	return &ear{started: make(chan struct{}), heard: make(chan struct{}), done: make(chan struct{})}
}

func (e *ear) Serve(ctx context.Context, call agent.Call) error {
	close(e.started)
	defer close(e.done)
	frame := make([]int16, agent.FrameSamples)
	for {
		n, err := call.ReadAudio(ctx, frame)
		if err != nil {
			return nil
		}
		for _, v := range frame[:n] {
			if v > 2000 || v < -2000 {
				e.heardOnce.Do(func() { close(e.heard) })
				break
			}
		}
	}
}

// waitFor fails the test unless ch is closed within d.
func waitFor(t *testing.T, ch <-chan struct{}, d time.Duration, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(d):
		t.Fatalf("timed out after %v waiting for %s", d, what)
	}
}

// notCalled is an agent that must not run. It is checked when the test
// ends, after the server (started later) is closed.
func notCalled(t *testing.T) agent.Agent {
	var ran atomic.Int32
	t.Cleanup(func() {
		if n := ran.Load(); n > 0 {
			t.Errorf("agent ran for %d calls, want none", n)
		}
	})
	return agent.AgentFunc(func(ctx context.Context, call agent.Call) error {
		ran.Add(1)
		return nil
	})
}

// logRecords keeps every record logged through it and passes those at
// Warn and above to the test log.
type logRecords struct {
	mu     sync.Mutex
	recs   []logRecord
	out    slog.Handler
	closed bool // the test is over: t.Log must not be called
}

type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

type logCapture struct {
	store *logRecords
	attrs []slog.Attr
}

// captureLogs returns a logger that keeps records in the returned store
// and passes them on to the test log until the test ends. sipgo runs
// each request in a goroutine that nothing waits for, so a record can
// come after the test (and its Server) are done: t.Log then would race
// with the end of the test.
func captureLogs(t *testing.T) (*slog.Logger, *logRecords) {
	s := &logRecords{out: testLogger(t).Handler()}
	t.Cleanup(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
	})
	return slog.New(&logCapture{store: s}), s
}

// robustServer starts a server whose log is captured; see captureLogs.
// Call it before anything else that registers a cleanup, so that the
// server is closed before its log stops reaching the test log.
func robustServer(t *testing.T, agents map[string]agent.Agent, opts ...serverOpt) (*sip.Server, *logRecords) {
	t.Helper()
	log, recs := captureLogs(t)
	return startServer(t, agents, append(opts, withLogger(log))...), recs
}

func (h *logCapture) Enabled(context.Context, slog.Level) bool { return true }

func (h *logCapture) Handle(ctx context.Context, r slog.Record) error {
	rec := logRecord{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	for _, a := range h.attrs {
		rec.attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool { rec.attrs[a.Key] = a.Value.String(); return true })
	h.store.mu.Lock()
	defer h.store.mu.Unlock()
	h.store.recs = append(h.store.recs, rec)
	if !h.store.closed && h.store.out.Enabled(ctx, r.Level) {
		return h.store.out.WithAttrs(h.attrs).Handle(ctx, r)
	}
	return nil
}

func (h *logCapture) WithAttrs(as []slog.Attr) slog.Handler {
	return &logCapture{store: h.store, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h *logCapture) WithGroup(string) slog.Handler { return h }

// find returns the records with message msg.
func (s *logRecords) find(msg string) []logRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []logRecord
	for _, r := range s.recs {
		if r.msg == msg {
			out = append(out, r)
		}
	}
	return out
}

// atLeast returns the records at level l or above.
func (s *logRecords) atLeast(l slog.Level) []logRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []logRecord
	for _, r := range s.recs {
		if r.level >= l {
			out = append(out, r)
		}
	}
	return out
}

func withLogger(l *slog.Logger) serverOpt { return func(c *sip.Config) { c.Logger = l } }

// Requests outside what sipagent serves get the RFC 3261 answers.

func TestRawOptions(t *testing.T) {
	t.Parallel()
	srv, _ := robustServer(t, map[string]agent.Agent{"rec": notCalled(t)})
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			p := dialRaw(t, srv, transport)
			res := p.do(&rawReq{Method: "OPTIONS"})
			if res.StatusCode != 200 {
				t.Fatalf("OPTIONS: %d %s, want 200", res.StatusCode, res.Reason)
			}
			allow := header(res, "Allow")
			for _, m := range []string{"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS"} {
				if !strings.Contains(allow, m) {
					t.Errorf("Allow %q lacks %s", allow, m)
				}
			}
			if got := header(res, "Accept"); got != "application/sdp" {
				t.Errorf("Accept = %q, want application/sdp", got)
			}
			if res.GetHeader("Supported") == nil {
				t.Error("no Supported header")
			}
		})
	}
	waitIdle(t, srv)
}

func TestRawMethodNotServed(t *testing.T) {
	t.Parallel()
	srv, _ := robustServer(t, map[string]agent.Agent{"rec": notCalled(t)})
	for _, transport := range []string{"udp", "tcp"} {
		for _, tc := range []struct {
			method string
			code   int
		}{
			{"FOO", 501},       // unknown method (RFC 3261 s.8.2.1)
			{"SUBSCRIBE", 405}, // known, not allowed
			{"REGISTER", 405},
			{"MESSAGE", 405},
		} {
			t.Run(transport+"/"+tc.method, func(t *testing.T) {
				p := dialRaw(t, srv, transport)
				res := p.do(&rawReq{Method: tc.method})
				if res.StatusCode != tc.code {
					t.Fatalf("%s: %d %s, want %d", tc.method, res.StatusCode, res.Reason, tc.code)
				}
				if allow := header(res, "Allow"); !strings.Contains(allow, "INVITE") {
					t.Errorf("Allow = %q", allow)
				}
			})
		}
	}
	waitIdle(t, srv)
}

// In-dialog requests for dialogs that do not exist get 481.
func TestRawUnknownDialog481(t *testing.T) {
	t.Parallel()
	srv, _ := robustServer(t, map[string]agent.Agent{"rec": notCalled(t)})
	for _, transport := range []string{"udp", "tcp"} {
		for _, tc := range []struct {
			name string
			req  rawReq
		}{
			{"BYE", rawReq{Method: "BYE", ToTag: "nosuchtag", CSeq: 2}},
			{"re-INVITE", rawReq{Method: "INVITE", ToTag: "nosuchtag", CSeq: 2, Body: rawOffer(4000, "0", "a=rtpmap:0 PCMU/8000")}},
			{"CANCEL", rawReq{Method: "CANCEL"}},
		} {
			t.Run(transport+"/"+tc.name, func(t *testing.T) {
				p := dialRaw(t, srv, transport)
				req := tc.req
				if res := p.do(&req); res.StatusCode != 481 {
					t.Fatalf("%d %s, want 481", res.StatusCode, res.Reason)
				}
			})
		}
	}
	waitIdle(t, srv)
}

// INVITEs that cannot start a call are refused with the response that
// says why, before any agent runs and without holding a call slot.
func TestRawInviteRefused(t *testing.T) {
	t.Parallel()
	srv, _ := robustServer(t, map[string]agent.Agent{"rec": notCalled(t)})
	pcmu := rawOffer(4000, "0", "a=rtpmap:0 PCMU/8000")
	for _, transport := range []string{"udp", "tcp"} {
		for _, tc := range []struct {
			name   string
			req    rawReq
			code   int
			header string // must be present
			value  string // and contain this
		}{
			{"no Contact", rawReq{NoContact: true, Body: pcmu}, 400, "", ""},
			{"Max-Forwards 0", rawReq{MaxFwd: "0", Body: pcmu}, 483, "", ""},
			{"Require 100rel", rawReq{Headers: []string{"Require: 100rel"}, Body: pcmu}, 420, "Unsupported", "100rel"},
			{"text body", rawReq{ContentType: "text/plain", Body: "hello"}, 415, "Accept", "application/sdp"},
			{"malformed SDP", rawReq{Body: "v=0\r\nthis is not sdp\r\n"}, 400, "Warning", "399"},
			{"no common codec", rawReq{Body: rawOffer(4000, "18", "a=rtpmap:18 G729/8000")}, 488, "Warning", "305"},
			{"SIP/3.0", rawReq{Version: "SIP/3.0", Body: pcmu}, 505, "", ""},
		} {
			t.Run(transport+"/"+tc.name, func(t *testing.T) {
				p := dialRaw(t, srv, transport)
				req := tc.req
				req.Method = "INVITE"
				res := p.do(&req)
				if res.StatusCode != tc.code {
					t.Fatalf("%d %s, want %d", res.StatusCode, res.Reason, tc.code)
				}
				if tc.header != "" && !strings.Contains(header(res, tc.header), tc.value) {
					t.Errorf("%s = %q, want it to contain %q", tc.header, header(res, tc.header), tc.value)
				}
			})
		}
	}
	waitIdle(t, srv)
}

// Datagrams that are not SIP, or not quite, are dropped without a word
// at Warn or above per datagram, counted, and the server goes on.
func TestRawMalformedUDP(t *testing.T) {
	t.Parallel()
	srv, recs := robustServer(t, map[string]agent.Agent{"rec": notCalled(t)})
	p := dialRaw(t, srv, "udp")
	rng := rand.New(rand.NewPCG(1, 2))
	garbage := make([]byte, 1200)
	for i := range garbage {
		garbage[i] = byte(rng.UintN(256))
	}
	// Each case spoils a valid request; answered says whether the result
	// still names what a client needs to match a 400 to its request.
	unparseable := []struct {
		name     string
		method   string
		spoil    func(string) string
		answered bool
	}{
		{"garbage", "OPTIONS", func(string) string { return string(garbage) }, false},
		{"truncated", "OPTIONS", func(v string) string { return v[:len(v)/2] }, false},
		{"HTTP", "OPTIONS", func(string) string { return "GET / HTTP/1.1\r\nHost: sipagent\r\n\r\n" }, false},
		{"huge header", "OPTIONS", func(v string) string { // cut at sipgo's read buffer, before From
			return strings.Replace(v, "Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nX-Huge: "+strings.Repeat("a", 50000)+"\r\n", 1)
		}, false},
		{"malformed response", "OPTIONS", func(v string) string {
			return "SIP/2.0 2x0 OK\r\n" + v[strings.Index(v, "\r\n")+2:]
		}, false},
		{"bad ACK", "ACK", func(v string) string { return strings.Replace(v, "Max-Forwards: 70", "Max-Forwards: seventy", 1) }, false},
		{"bad version", "OPTIONS", func(v string) string { return strings.Replace(v, " SIP/2.0\r\n", " XIP/2.0\r\n", 1) }, true},
		{"bad header", "OPTIONS", func(v string) string { return strings.Replace(v, "Max-Forwards: 70", "Max-Forwards: seventy", 1) }, true},
		{"bad INVITE", "INVITE", func(v string) string { return strings.Replace(v, "Max-Forwards: 70", "Max-Forwards: seventy", 1) }, true},
		{"body shorter than Content-Length", "OPTIONS", func(v string) string { // RFC 3261 s.18.3
			return strings.Replace(v, "Content-Length: 0", "Content-Length: 500", 1)
		}, true},
	}
	for i, tc := range unparseable {
		bad := rawReq{Method: tc.method}
		p.send(tc.spoil(p.text(&bad)))
		// The OPTIONS is read after the bad datagram on the same socket,
		// and the server answers in order: once the OPTIONS is answered,
		// so is the bad datagram, if it is.
		opt := rawReq{Method: "OPTIONS"}
		p.send(p.text(&opt))
		res, before := p.finalAfter(&opt)
		if res.StatusCode != 200 {
			t.Fatalf("after %s: OPTIONS got %d", tc.name, res.StatusCode)
		}
		var answer *siplib.Response
		for _, m := range before {
			if r, ok := m.(*siplib.Response); ok && r.CallID() != nil && r.CallID().Value() == bad.CallID {
				answer = r
			}
		}
		switch {
		case tc.answered && answer == nil:
			t.Errorf("%s: no answer", tc.name)
		case tc.answered && (answer.StatusCode != 400 || answer.CSeq().SeqNo != 1 || string(answer.CSeq().MethodName) != tc.method):
			t.Errorf("%s: answered %d %s, CSeq %v; want 400 to CSeq 1 %s", tc.name, answer.StatusCode, answer.Reason, answer.CSeq(), tc.method)
		case tc.answered:
			if tag, _ := answer.To().Params.Get("tag"); tag == "" {
				t.Errorf("%s: 400 without a To tag", tc.name)
			}
		case answer != nil:
			t.Errorf("%s: answered %d, want no answer", tc.name, answer.StatusCode)
		}
		if got := srv.DroppedMessages(); got != uint64(i+1) {
			t.Errorf("after %s: DroppedMessages = %d, want %d", tc.name, got, i+1)
		}
	}
	// Parseable but incomplete: sipgo answers what it can (or not) and
	// the server goes on.
	for _, data := range []string{
		strings.Replace(p.text(&rawReq{Method: "OPTIONS"}), "CSeq: 1 OPTIONS\r\n", "", 1),
		"\x00\x00\x00\x00",
		"\r\n\r\n",
	} {
		p.send(data)
	}
	if res := p.do(&rawReq{Method: "OPTIONS"}); res.StatusCode != 200 {
		t.Fatalf("OPTIONS got %d", res.StatusCode)
	}
	if n := len(recs.find("failed to parse")); n != len(unparseable) {
		t.Errorf("%d \"failed to parse\" records, want %d (at Debug)", n, len(unparseable))
	}
	for _, r := range recs.find("failed to parse") {
		if r.level != slog.LevelDebug {
			t.Errorf("\"failed to parse\" logged at %v", r.level)
		}
		if len(r.attrs["data"]) > 300 {
			t.Errorf("\"failed to parse\" record carries %d bytes of data", len(r.attrs["data"]))
		}
	}
	if s := recs.find("SIP messages dropped"); len(s) != 1 {
		t.Errorf("%d summaries of dropped messages, want 1 (at most one a minute)", len(s))
	}
	for _, r := range recs.atLeast(slog.LevelWarn) {
		if r.msg != "SIP messages dropped" {
			t.Errorf("unexpected record at %v: %s %v", r.level, r.msg, r.attrs)
		}
	}
	waitIdle(t, srv)
}

// Garbage on a TCP connection ends that connection, not the listener.
func TestRawMalformedTCP(t *testing.T) {
	t.Parallel()
	srv, _ := robustServer(t, map[string]agent.Agent{"rec": notCalled(t)})
	bad := dialRaw(t, srv, "tcp")
	bad.send("INVITE sip:rec@x SIP/2.0\r\nVia: SIP/2.0/TCP nowhere\r\nCSeq: x\r\n\r\n")
	if _, err := bad.next(rawWait); err == nil {
		t.Error("got a message after garbage; want the connection closed")
	} else if !errors.Is(err, io.EOF) {
		t.Errorf("read after garbage: %v, want EOF", err)
	}
	if res := dialRaw(t, srv, "tcp").do(&rawReq{Method: "OPTIONS"}); res.StatusCode != 200 {
		t.Fatalf("OPTIONS on a new connection: %d", res.StatusCode)
	}
	waitIdle(t, srv)
}

// Over limits.max_calls, a new INVITE gets 503 with Retry-After.
func TestRawMaxCalls503(t *testing.T) {
	t.Parallel()
	e := newEar()
	srv, _ := robustServer(t, map[string]agent.Agent{"rec": e}, withMaxCalls(1))
	p := dialRaw(t, srv, "udp")
	c := p.invite("rec", 4000)
	c.ack()
	waitFor(t, e.started, rawWait, "the first call to start")

	res := dialRaw(t, srv, "udp").do(&rawReq{Method: "INVITE", Body: rawOffer(4002, "0", "a=rtpmap:0 PCMU/8000")})
	if res.StatusCode != 503 {
		t.Fatalf("second INVITE: %d %s, want 503", res.StatusCode, res.Reason)
	}
	if header(res, "Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if res := c.bye(); res.StatusCode != 200 {
		t.Fatalf("BYE: %d", res.StatusCode)
	}
	waitFor(t, e.done, rawWait, "the agent to finish")
	waitIdle(t, srv)
}

// A caller that never ACKs our 200: sipgo retransmits it until the
// INVITE transaction ends (64*T1), then the call is ended with a BYE.
// Other calls go on meanwhile.
func TestNoAckEndsCall(t *testing.T) {
	t.Parallel()
	srv, recs := robustServer(t, map[string]agent.Agent{"noack": notCalled(t), "rec": newRecorder()})
	p := dialRaw(t, srv, "udp")
	start := time.Now()
	c := p.invite("noack", 4000) // and no ACK

	if out, err := runSipp(t, srv, sippRun{Scenario: "uac_nomedia.xml", User: "rec"}); err != nil {
		t.Fatalf("a call during the wait failed: %v\n%s", err, out)
	}
	bye, retransmissions := p.awaitRequest("BYE", 64*testT1+rawWait)
	elapsed := time.Since(start)
	p.reply(bye, 200, "OK")
	if got := bye.CallID().Value(); got != c.inv.CallID {
		t.Errorf("BYE for call %s, want %s", got, c.inv.CallID)
	}
	t.Logf("BYE after %v and %d other messages (2xx retransmissions)", elapsed.Round(time.Millisecond), retransmissions)
	if elapsed < 64*testT1 {
		t.Errorf("BYE after %v, before the INVITE transaction could time out (%v)", elapsed, 64*testT1)
	}
	if retransmissions < 2 {
		t.Errorf("%d 2xx retransmissions, want several", retransmissions)
	}
	waitIdle(t, srv)
	assertEnded(t, recs, c.inv.CallID, "no ack")
}

// assertEnded checks the server logged the end of call id with reason.
func assertEnded(t *testing.T, recs *logRecords, id, reason string) {
	t.Helper()
	for _, r := range recs.find("call ended") {
		if r.attrs["call_id"] == id {
			if r.attrs["reason"] != reason {
				t.Errorf("call ended with reason %q, want %q", r.attrs["reason"], reason)
			}
			return
		}
	}
	t.Errorf("no \"call ended\" record for call %s", id)
}

// A caller that sends no RTP is hung up after rtp_timeout.
func TestRTPTimeoutSendsBye(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	srv, _ := robustServer(t, map[string]agent.Agent{"rec": rec}, withRTPTimeout(time.Second))
	start := time.Now()
	if out, err := runSipp(t, srv, sippRun{Scenario: "robust_silent_wait_bye.xml", User: "rec"}); err != nil {
		t.Fatalf("sipp: %v\n%s", err, out)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("BYE after %v, before the RTP timeout", d)
	}
	rec.wait(t)
	waitIdle(t, srv)
}

// rtpPacket builds an RTP packet (RFC 3550 s.5.1).
func rtpPacket(pt uint8, seq uint16, ts, ssrc uint32, payload []byte) []byte {
	b := make([]byte, 12, 12+len(payload))
	b[0] = 2 << 6
	b[1] = pt
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	return append(b, payload...)
}

// rtpTone sends a 1 kHz PCMU tone from conn to dst every 20 ms until
// stop is closed.
func rtpTone(conn *net.UDPConn, dst netip.AddrPort, stop <-chan struct{}) {
	pcm := make([]int16, 160)
	payload := make([]byte, 160)
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for i := 0; ; i++ {
		for j := range pcm {
			pcm[j] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i*160+j)/8000))
		}
		media.PCMU.Encode(payload, pcm)
		_, _ = conn.WriteToUDPAddrPort(rtpPacket(0, uint16(i), uint32(i*160), 0x5eed, payload), dst)
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

func listenRTP(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Garbage on the RTP port, from the caller's address and from elsewhere,
// neither ends the call nor stops its audio.
func TestGarbageRTP(t *testing.T) {
	t.Parallel()
	e := newEar()
	srv, _ := robustServer(t, map[string]agent.Agent{"rec": e})
	rtpConn, stranger := listenRTP(t), listenRTP(t)
	p := dialRaw(t, srv, "udp")
	c := p.invite("rec", rtpConn.LocalAddr().(*net.UDPAddr).Port)
	c.ack()
	waitFor(t, e.started, rawWait, "the call to start")

	rng := rand.New(rand.NewPCG(3, 4))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		return b
	}
	pcmu := make([]byte, 160)
	var bad [][]byte
	for range 200 {
		bad = append(bad, random(1+rng.IntN(1500)))
	}
	hdr := func(b0 byte, pt uint8, payload []byte) []byte {
		b := rtpPacket(pt, uint16(rng.UintN(1<<16)), rng.Uint32(), rng.Uint32(), payload)
		b[0] = b0
		return b
	}
	bad = append(bad,
		[]byte{},
		[]byte{0x80},
		rtpPacket(0, 1, 1, 1, nil)[:11], // short header
		hdr(0x00, 0, pcmu),              // version 0
		hdr(0x40, 0, pcmu),              // version 1
		hdr(0xc0, 0, pcmu),              // version 3
		hdr(0x8f, 0, nil),               // 15 CSRCs announced, none there
		hdr(0x90, 0, nil),               // extension bit, no extension
		hdr(0x90, 0, []byte{0xbe, 0xde, 0xff, 0xff}),  // extension longer than the packet
		hdr(0xa0, 0, append(pcmu[:10:10], 0xff)),      // padding longer than the packet
		hdr(0xa0, 0, append(pcmu[:10:10], 0)),         // padding count 0
		hdr(0x80, 99, pcmu),                           // payload type not negotiated
		hdr(0x80, 200, random(20)),                    // RTCP
		hdr(0x80, 0, random(1400)),                    // oversized PCMU
		hdr(0x80, 0, nil),                             // empty PCMU
		hdr(0x80, 101, []byte{1}),                     // short telephone-event
		hdr(0x80, 101, []byte{255, 0xff, 0xff, 0xff}), // event 255, end, max volume and duration
		hdr(0x80, 101, random(400)),                   // long telephone-event
		random(65000),                                 // cut at the read buffer
	)
	for _, b := range bad {
		_, _ = rtpConn.WriteToUDPAddrPort(b, c.rtp)
		_, _ = stranger.WriteToUDPAddrPort(b, c.rtp)
	}

	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { defer close(done); rtpTone(rtpConn, c.rtp, stop) }()
	waitFor(t, e.heard, rawWait, "the agent to hear the caller after the garbage")
	// Garbage again, now that the session has latched onto the caller.
	for _, b := range bad {
		_, _ = rtpConn.WriteToUDPAddrPort(b, c.rtp)
		_, _ = stranger.WriteToUDPAddrPort(b, c.rtp)
	}
	close(stop)
	<-done
	// sipagent sends to the caller's address.
	_ = rtpConn.SetReadDeadline(time.Now().Add(rawWait))
	if _, _, err := rtpConn.ReadFromUDPAddrPort(make([]byte, 1500)); err != nil {
		t.Errorf("no RTP from sipagent: %v", err)
	}
	if srv.ActiveCalls() != 1 {
		t.Fatalf("%d active calls after the garbage, want 1", srv.ActiveCalls())
	}
	if res := c.bye(); res.StatusCode != 200 {
		t.Fatalf("BYE: %d %s", res.StatusCode, res.Reason)
	}
	waitFor(t, e.done, rawWait, "the agent to finish")
	waitIdle(t, srv)
}

// A caller that vanishes mid-call, sockets closed, is hung up by the RTP
// timeout; the BYE goes unanswered and the call is cleaned up anyway.
func TestPeerVanishes(t *testing.T) {
	t.Parallel()
	e := newEar()
	srv, recs := robustServer(t, map[string]agent.Agent{"rec": e}, withRTPTimeout(time.Second))
	rtpConn := listenRTP(t)
	p := dialRaw(t, srv, "udp")
	c := p.invite("rec", rtpConn.LocalAddr().(*net.UDPAddr).Port)
	c.ack()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { defer close(done); rtpTone(rtpConn, c.rtp, stop) }()
	waitFor(t, e.heard, rawWait, "the agent to hear the caller")
	close(stop)
	<-done
	_ = rtpConn.Close()
	_ = p.conn.Close()
	gone := time.Now()

	// RTP timeout, then a BYE that times out (64*T1 with the test timers).
	waitFor(t, e.done, time.Second+64*testT1+rawWait, "the call to end")
	waitIdle(t, srv)
	if d := time.Since(gone); d < time.Second {
		t.Errorf("call ended %v after the caller went, before the RTP timeout", d)
	}
	assertEnded(t, recs, c.inv.CallID, "rtp timeout")
	if len(recs.find("BYE not answered")) != 1 {
		t.Error("no BYE attempt logged as unanswered")
	}
}

// Shutdown drains: new calls get 503 while the active call goes on until
// the deadline, when the server hangs it up with BYE and closes.
func TestShutdownDrain(t *testing.T) {
	t.Parallel()
	e := newEar()
	srv, _ := robustServer(t, map[string]agent.Agent{"rec": e})
	sipp := sippAsync(t, srv, sippRun{Scenario: "robust_silent_wait_bye.xml", User: "rec"})
	select {
	case <-e.started:
	case r := <-sipp:
		t.Fatalf("sipp ended before the call started: %v\n%s", r.err, r.out)
	case <-time.After(rawWait):
		t.Fatal("the call did not start")
	}

	const drain = 1500 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	start := time.Now()
	shutdown := make(chan error, 1)
	go func() { shutdown <- srv.Shutdown(ctx) }()

	p := dialRaw(t, srv, "udp")
	for { // OPTIONS answers 503 once draining has begun
		res := p.do(&rawReq{Method: "OPTIONS"})
		if res.StatusCode == 503 {
			break
		}
		if time.Since(start) > drain/2 {
			t.Fatalf("OPTIONS still %d while draining", res.StatusCode)
		}
	}
	res := p.do(&rawReq{Method: "INVITE", Body: rawOffer(4000, "0", "a=rtpmap:0 PCMU/8000")})
	if res.StatusCode != 503 || header(res, "Retry-After") == "" {
		t.Fatalf("INVITE while draining: %d %s (Retry-After %q), want 503 with Retry-After",
			res.StatusCode, res.Reason, header(res, "Retry-After"))
	}
	if n := srv.ActiveCalls(); n != 1 {
		t.Errorf("%d active calls during the drain, want 1", n)
	}
	select {
	case err := <-shutdown:
		if err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	case <-time.After(drain + 2*rawWait):
		t.Fatal("Shutdown did not return")
	}
	if d := time.Since(start); d < drain {
		t.Errorf("Shutdown returned after %v, before its deadline", d)
	}
	if r := <-sipp; r.err != nil {
		t.Fatalf("sipp did not get its BYE: %v\n%s", r.err, r.out)
	}
	waitFor(t, e.done, rawWait, "the agent to finish")
	if n := srv.ActiveCalls(); n != 0 {
		t.Errorf("%d active calls after Shutdown", n)
	}
}

type sippResult struct {
	out string
	err error
}

// sippAsync runs sipp as runSipp does but in the background, for tests
// that act while the call is up. Whatever can fail the test happens
// here, on the test goroutine; the run is killed if the test ends first.
func sippAsync(t *testing.T, srv *sip.Server, r sippRun) <-chan sippResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	cmd := sippCmd(ctx, t, srv, r)
	res := make(chan sippResult, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		out, err := cmd.CombinedOutput()
		o, err := sippOutput(out, err, cmd.Dir)
		res <- sippResult{out: o, err: err}
	}()
	t.Cleanup(func() { cancel(); <-finished })
	return res
}
