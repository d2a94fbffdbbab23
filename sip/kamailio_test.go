package sip_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sipagent/sipagent/sip/siptest"

	siplib "github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// The kamailio harness runs a real kamailio (Debian package kamailio,
// 5.6) as a digest-authenticating registrar and proxy on loopback, with
// testdata/kamailio/registrar.cfg. It fails, never skips, when kamailio
// is missing. Every kamailio is stopped when its test ends.

// kamailioCfg is the registrar configuration, relative to this package.
const kamailioCfg = "../testdata/kamailio/registrar.cfg"

// Bounds on kamailio's process life: start-up until it answers OPTIONS,
// SIGTERM until it has exited, one JSON-RPC round trip.
const (
	kamStartWait = 10 * time.Second
	kamStopWait  = 5 * time.Second
	kamRPCWait   = 2 * time.Second
)

// kamailioOpts is what a test varies in its kamailio.
type kamailioOpts struct {
	Realm          string // digest realm; default "sipagent.test"
	User, Password string // the one account kamailio accepts; default "agent", "secret"
	Proxy407       bool   // challenge REGISTER with 407/Proxy-Authenticate instead of 401/WWW-Authenticate
	// NonceExpire is the nonce lifetime (auth nonce_expire, whole seconds,
	// at least 1); default 30s. A response with an older nonce gets a new
	// challenge with stale=true.
	NonceExpire time.Duration
	// MinExpires is registrar min_expires in seconds, default 1: a
	// REGISTER asking for less (but not 0) gets 423 with Min-Expires.
	MinExpires int
	// MaxExpires is registrar max_expires in seconds, default 3600: a
	// longer request is granted MaxExpires.
	MaxExpires int
	// NonceCount makes kamailio track nc per nonce (auth nonce_count): a
	// response whose nc is not above the last accepted one is challenged
	// again. Off by default, as in kamailio: a nonce is then reusable,
	// with any nc, until it expires.
	NonceCount bool
	// TLS makes kamailio listen on tls:127.0.0.1:TLSPort too, presenting
	// this PKI's leaf certificate. It asks clients for no certificate,
	// and does not verify the certificates of peers it connects to.
	TLS *siptest.PKI
}

// kamailio is one kamailio instance, listening on UDP and TCP
// 127.0.0.1:Port and, with opts.TLS, on TLS 127.0.0.1:TLSPort. Its log
// lines are kept across restarts.
type kamailio struct {
	Port    int
	TLSPort int // 0 without opts.TLS

	opts kamailioOpts
	cfg  string // absolute path of registrar.cfg
	bin  string
	dir  string // runtime dir (-Y) and working dir: RPC sockets and tls.cfg live here

	mu    sync.Mutex
	lines []string
	proc  *kamProc // the running process; nil once stopped

	rpcMu sync.Mutex
	rpcID atomic.Int64
}

// kamProc is one kamailio process (group).
type kamProc struct {
	cmd    *exec.Cmd
	r      *os.File      // read end of its stdout+stderr
	eof    chan struct{} // closed when the output has ended
	exited chan struct{} // closed when the main process has been waited for
	err    error         // from Wait; read after exited
}

// kamContact is one contact of the location table.
type kamContact struct {
	URI       string // the registered Contact URI, parameters included
	Expires   int    // seconds left, whole; -1 if permanent
	Received  string // source of the REGISTER ("sip:127.0.0.1:PORT;transport=tcp") when NAT was detected, else ""
	Transport string // of the socket the REGISTER came in on: "udp", "tcp" or "tls"
	Socket    string // that socket, e.g. "udp:127.0.0.1:5060" or "tls:127.0.0.1:5061"
	CallID    string
	CSeq      int
	UserAgent string
}

// startKamailio starts kamailio on a free port (and, with o.TLS, a second
// one for TLS) and waits until it answers an OPTIONS; it is stopped when
// the test ends.
func startKamailio(t *testing.T, o kamailioOpts) *kamailio {
	t.Helper()
	bin, err := exec.LookPath("kamailio")
	if err != nil {
		t.Fatal("kamailio not found: install the Debian package kamailio (apt-get install kamailio)")
	}
	cfg, err := filepath.Abs(kamailioCfg)
	if err != nil {
		t.Fatal(err)
	}
	if o.Realm == "" {
		o.Realm = "sipagent.test"
	}
	if o.User == "" {
		o.User = "agent"
	}
	if o.Password == "" {
		o.Password = "secret"
	}
	if o.NonceExpire == 0 {
		o.NonceExpire = 30 * time.Second
	}
	if o.MinExpires == 0 {
		o.MinExpires = 1
	}
	if o.MaxExpires == 0 {
		o.MaxExpires = 3600
	}
	for _, s := range []string{o.Realm, o.User} {
		if strings.ContainsAny(s, "\"\\ \t\r\n@:;") {
			t.Fatalf("kamailio: realm and user must be plain tokens, got %q", s)
		}
	}
	k := &kamailio{opts: o, cfg: cfg, bin: bin, dir: kamRunDir(t)}
	// Cleanups run last in, first out: stop, then show the output (the
	// stop included) if the test failed.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kamailio output:\n%s", k.Logs())
		}
	})
	t.Cleanup(k.Stop)
	if o.TLS != nil {
		if err := os.WriteFile(k.tlsCfg(), []byte(kamTLSCfg(o.TLS)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The ports are free when chosen, not when kamailio binds them: retry
	// on new ports if kamailio exits during start-up.
	for range 5 {
		port, tlsPort := kamFreePort(t), 0
		for o.TLS != nil && (tlsPort == 0 || tlsPort == port) {
			tlsPort = freePortOn(t, "tcp", "127.0.0.1")
		}
		err := k.start(port, tlsPort)
		if err == nil {
			k.Port, k.TLSPort = port, tlsPort
			return k
		}
		if !errors.Is(err, errKamPortInUse) {
			t.Fatalf("kamailio did not start: %v", err)
		}
	}
	t.Fatal("kamailio found no free port")
	return nil
}

// errKamPortInUse is start's error when kamailio could not bind its port.
var errKamPortInUse = errors.New("kamailio: address already in use")

// kamRunDir is the runtime directory: t.TempDir(), unless its path is too
// long for a unix socket name (108 bytes).
func kamRunDir(t *testing.T) string {
	dir := t.TempDir()
	if len(dir)+len("/kamailio_rpc.sock") < 100 {
		return dir
	}
	dir, err := os.MkdirTemp("", "kam")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// kamFreePort returns a port free on 127.0.0.1 for both UDP and TCP.
func kamFreePort(t *testing.T) int {
	t.Helper()
	for range 50 {
		p := freePortOn(t, "udp", "127.0.0.1")
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err == nil {
			_ = l.Close()
			return p
		}
	}
	t.Fatal("no port free for both UDP and TCP")
	return 0
}

// tlsCfg is the path of the tls module's configuration file.
func (k *kamailio) tlsCfg() string { return filepath.Join(k.dir, "tls.cfg") }

// kamTLSCfg is the tls module's configuration file for p: one server
// profile for every TLS listener, and one client profile for the
// connections kamailio opens itself (to a registered TLS contact whose
// connection has gone). Neither verifies the peer's certificate: SIP
// clients rarely have one, and kamailio checks only the issuer anyway.
func kamTLSCfg(p *siptest.PKI) string {
	return fmt.Sprintf(`[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
certificate = %[1]s
private_key = %[2]s
ca_list = %[3]s

[client:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
certificate = %[1]s
private_key = %[2]s
ca_list = %[3]s
`, p.CertFile, p.KeyFile, p.CAFile)
}

// kamQuote makes s a kamailio config string literal.
func kamQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// args is kamailio's command line for port and, with opts.TLS, tlsPort.
func (k *kamailio) args(port, tlsPort int) []string {
	o := k.opts
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := []string{
		"-f", k.cfg,
		"-DD", "-E", // foreground, log to stderr
		"-Y", k.dir, "-w", k.dir,
		"-l", "udp:" + addr, "-l", "tcp:" + addr,
		"-m", "32", "-M", "4",
		"-A", "REALM=" + kamQuote(o.Realm),
		"-A", "AUTH_USER=" + kamQuote(o.User),
		"-A", "AUTH_PASSWORD=" + kamQuote(o.Password),
		"-A", "NONCE_EXPIRE=" + strconv.Itoa(max(1, int(o.NonceExpire.Round(time.Second)/time.Second))),
		"-A", "MIN_EXPIRES=" + strconv.Itoa(o.MinExpires),
		"-A", "MAX_EXPIRES=" + strconv.Itoa(o.MaxExpires),
	}
	if o.Proxy407 {
		args = append(args, "-A", "WITH_407")
	}
	if o.NonceCount {
		args = append(args, "-A", "WITH_NONCE_COUNT")
	}
	if o.TLS != nil {
		args = append(args, "-l", "tls:127.0.0.1:"+strconv.Itoa(tlsPort),
			"-A", "WITH_TLS", "-A", "TLS_CFG="+kamQuote(k.tlsCfg()))
	}
	return args
}

// start runs kamailio on port (and tlsPort) and waits until it answers.
// On error the process is gone.
func (k *kamailio) start(port, tlsPort int) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd := exec.Command(k.bin, k.args(port, tlsPort)...)
	cmd.Dir = k.dir
	cmd.Stdout, cmd.Stderr = w, w
	// Its own process group, so that Stop can kill every child, and
	// SIGKILL if the test binary dies. Killing kamailio's main process
	// leaves its children running, so as root it also gets its own PID
	// namespace: when the main process (PID 1 there) dies, however it
	// dies, the kernel kills the rest.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if os.Geteuid() == 0 {
		cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWPID
	}
	k.logf("=== harness: %s %s", k.bin, strings.Join(cmd.Args[1:], " "))
	err = cmd.Start()
	if err != nil && cmd.SysProcAttr.Cloneflags != 0 {
		// No CAP_SYS_ADMIN after all (a restricted container).
		k.logf("=== harness: no PID namespace (%v)", err)
		cmd = exec.Command(k.bin, k.args(port, tlsPort)...)
		cmd.Dir = k.dir
		cmd.Stdout, cmd.Stderr = w, w
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		err = cmd.Start()
	}
	if err != nil {
		_ = r.Close()
		_ = w.Close()
		return err
	}
	_ = w.Close() // kamailio holds the write end now; EOF when all its processes exit
	p := &kamProc{cmd: cmd, r: r, eof: make(chan struct{}), exited: make(chan struct{})}
	go k.read(p)
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	k.mu.Lock()
	k.proc = p
	first := len(k.lines)
	k.mu.Unlock()
	if err := k.waitReady(p, port); err != nil {
		k.Stop()
		k.mu.Lock()
		inUse := strings.Contains(strings.Join(k.lines[first:], "\n"), "Address already in use")
		k.mu.Unlock()
		if inUse {
			return fmt.Errorf("%w: port %d (TLS %d): %v", errKamPortInUse, port, tlsPort, err)
		}
		return err
	}
	return nil
}

// read keeps kamailio's output lines until every process has exited.
func (k *kamailio) read(p *kamProc) {
	defer close(p.eof)
	sc := bufio.NewScanner(p.r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		k.mu.Lock()
		k.lines = append(k.lines, sc.Text())
		k.mu.Unlock()
	}
}

func (k *kamailio) logf(format string, args ...any) {
	k.mu.Lock()
	k.lines = append(k.lines, fmt.Sprintf(format, args...))
	k.mu.Unlock()
}

// waitReady sends OPTIONS to kamailio until it answers, then checks that
// its JSON-RPC socket answers too.
func (k *kamailio) waitReady(p *kamProc, port int) error {
	deadline := time.Now().Add(kamStartWait)
	conn, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	local := conn.LocalAddr().String()
	buf := make([]byte, 65536)
	for i := 0; ; i++ {
		select {
		case <-p.exited:
			return fmt.Errorf("kamailio exited during start-up: %v", p.err)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kamailio did not answer OPTIONS within %v", kamStartWait)
		}
		msg := fmt.Sprintf("OPTIONS sip:127.0.0.1:%d SIP/2.0\r\n"+
			"Via: SIP/2.0/UDP %s;branch=z9hG4bK-kamready-%d;rport\r\n"+
			"Max-Forwards: 70\r\n"+
			"From: <sip:harness@127.0.0.1>;tag=kamready\r\n"+
			"To: <sip:127.0.0.1:%d>\r\n"+
			"Call-ID: kamready-%d@%s\r\n"+
			"CSeq: %d OPTIONS\r\n"+
			"Content-Length: 0\r\n\r\n", port, local, i, port, port, local, i+1)
		// Before kamailio binds, the port answers with ICMP port
		// unreachable, which the next write or read reports as
		// ECONNREFUSED: try again.
		if _, err := conn.Write([]byte(msg)); err != nil {
			if !errors.Is(err, syscall.ECONNREFUSED) {
				return err
			}
			time.Sleep(50 * time.Millisecond)
			continue
		}
		_ = conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, err := conn.Read(buf)
		if err == nil && strings.HasPrefix(string(buf[:n]), "SIP/2.0 200") {
			break
		}
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			time.Sleep(50 * time.Millisecond)
		}
	}
	for {
		_, err := k.rpc("core.version")
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kamailio JSON-RPC: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Addr is kamailio's SIP address, for UDP and TCP.
func (k *kamailio) Addr() string { return "127.0.0.1:" + strconv.Itoa(k.Port) }

// TLSAddr is kamailio's SIP address for TLS; it needs opts.TLS.
func (k *kamailio) TLSAddr() string { return "127.0.0.1:" + strconv.Itoa(k.TLSPort) }

// Stop stops kamailio: SIGTERM, then SIGKILL to its whole process group
// if it has not exited within kamStopWait. It is idempotent.
func (k *kamailio) Stop() {
	k.mu.Lock()
	p := k.proc
	k.proc = nil
	k.mu.Unlock()
	if p == nil {
		return
	}
	pgid := p.cmd.Process.Pid
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(kamStopWait):
		k.logf("=== harness: kamailio ignored SIGTERM for %v, killing it", kamStopWait)
	}
	// Whatever is left of the group (children, or all of it).
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-p.exited
	select {
	case <-p.eof:
	case <-time.After(kamStopWait):
		k.logf("=== harness: kamailio output still open %v after exit", kamStopWait)
	}
	_ = p.r.Close()
	<-p.eof
	k.logf("=== harness: kamailio stopped (%v)", p.err)
}

// Restart stops kamailio and starts it again on the same ports, with an
// empty location table and a new nonce secret, as a real restart. Open
// TCP and TLS connections to it are gone.
func (k *kamailio) Restart(t *testing.T) {
	t.Helper()
	k.Stop()
	var err error
	for range 5 {
		if err = k.start(k.Port, k.TLSPort); !errors.Is(err, errKamPortInUse) {
			break
		}
		time.Sleep(200 * time.Millisecond) // the port may still be held
	}
	if err == nil {
		return
	}
	t.Fatalf("kamailio did not restart on port %d (TLS %d): %v", k.Port, k.TLSPort, err)
}

// Count is the number of log lines so far that contain substr.
func (k *kamailio) Count(substr string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	n := 0
	for _, l := range k.lines {
		if strings.Contains(l, substr) {
			n++
		}
	}
	return n
}

// WaitCount waits up to d until at least n log lines contain substr and
// returns how many do. Lines reach the harness asynchronously, and some
// (KSAVED) are written after the response is sent: a test that has just
// read a response counts with WaitCount, not Count.
func (k *kamailio) WaitCount(substr string, n int, d time.Duration) int {
	eventually(d, func() bool { return k.Count(substr) >= n })
	return k.Count(substr)
}

// Logs is kamailio's output so far, for failure messages.
func (k *kamailio) Logs() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return strings.Join(k.lines, "\n")
}

// rpc calls a kamailio RPC command over JSON-RPC on the unix datagram
// socket and returns its result.
func (k *kamailio) rpc(method string, params ...any) (json.RawMessage, error) {
	k.rpcMu.Lock()
	defer k.rpcMu.Unlock()
	id := k.rpcID.Add(1)
	local := filepath.Join(k.dir, fmt.Sprintf("rpc-client-%d.sock", id))
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: local, Net: "unixgram"})
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Close(); _ = os.Remove(local) }()
	if params == nil {
		params = []any{}
	}
	req, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": method, "params": params, "id": id})
	if err != nil {
		return nil, err
	}
	server := &net.UnixAddr{Name: filepath.Join(k.dir, "kamailio_rpc.sock"), Net: "unixgram"}
	if _, err := conn.WriteToUnix(req, server); err != nil {
		return nil, err
	}
	_ = conn.SetReadDeadline(time.Now().Add(kamRPCWait))
	buf := make([]byte, 1<<20)
	n, _, err := conn.ReadFromUnix(buf)
	if err != nil {
		return nil, err
	}
	var res struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(buf[:n], &res); err != nil {
		return nil, fmt.Errorf("%s: %v: %s", method, err, buf[:n])
	}
	if res.Error != nil {
		return nil, &kamRPCError{Code: res.Error.Code, Message: res.Error.Message}
	}
	return res.Result, nil
}

type kamRPCError struct {
	Code    int
	Message string
}

func (e *kamRPCError) Error() string { return fmt.Sprintf("rpc error %d: %s", e.Code, e.Message) }

// Contacts returns the contacts registered for aor, a user ("agent") or
// user@domain: the location table keys on the user only.
func (k *kamailio) Contacts(t *testing.T, aor string) []kamContact {
	t.Helper()
	cs, err := k.contacts(aor)
	if err != nil {
		t.Fatalf("kamailio location table: %v", err)
	}
	return cs
}

func (k *kamailio) contacts(aor string) ([]kamContact, error) {
	if user, _, ok := strings.Cut(strings.TrimPrefix(aor, "sip:"), "@"); ok {
		aor = user
	}
	raw, err := k.rpc("ul.lookup", "location", aor)
	var rerr *kamRPCError
	if errors.As(err, &rerr) && strings.Contains(rerr.Message, "not found") {
		return nil, nil // kamailio 5.6: 500 "AOR not found in location table"
	}
	if err != nil {
		return nil, err
	}
	var rec struct {
		Contacts []struct {
			Contact struct {
				Address   string `json:"Address"`
				Expires   any    `json:"Expires"`
				Received  string `json:"Received"`
				Socket    string `json:"Socket"`
				CallID    string `json:"Call-ID"`
				CSeq      int    `json:"CSeq"`
				UserAgent string `json:"User-Agent"`
			} `json:"Contact"`
		} `json:"Contacts"`
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, fmt.Errorf("ul.lookup: %v: %s", err, raw)
	}
	var out []kamContact
	for _, c := range rec.Contacts {
		kc := kamContact{
			URI: c.Contact.Address, Received: c.Contact.Received, Socket: c.Contact.Socket,
			CallID: c.Contact.CallID, CSeq: c.Contact.CSeq, UserAgent: c.Contact.UserAgent,
		}
		if kc.Received == "[not set]" {
			kc.Received = ""
		}
		kc.Transport, _, _ = strings.Cut(kc.Socket, ":")
		switch e := c.Contact.Expires.(type) {
		case float64:
			kc.Expires = int(e)
		case string:
			if e != "permanent" {
				continue // "expired" or "deleted", until usrloc's timer removes it
			}
			kc.Expires = -1
		}
		out = append(out, kc)
	}
	return out, nil
}

// WaitContacts polls the location table until user has n contacts, and
// returns them; it fails the test if that takes longer than d.
func (k *kamailio) WaitContacts(t *testing.T, user string, n int, d time.Duration) []kamContact {
	t.Helper()
	var cs []kamContact
	var err error
	ok := eventually(d, func() bool {
		cs, err = k.contacts(user)
		return err != nil || len(cs) == n
	})
	if err != nil {
		t.Fatalf("kamailio location table: %v", err)
	}
	if !ok {
		t.Fatalf("kamailio: %d contacts for %s after %v, want %d: %+v", len(cs), user, d, n, cs)
	}
	return cs
}

// kamRegClient is a hand-written registration client (UDP, TCP or TLS)
// for testing the harness itself.
type kamRegClient struct {
	t      *testing.T
	k      *kamailio
	conn   net.Conn
	rd     *bufio.Reader // tcp and tls only
	proto  string        // "UDP", "TCP" or "TLS", for Via
	user   string
	cseq   int
	callID string
	// contact is the Contact URI; default sip:USER@ the client's socket,
	// with ;transport=tls over TLS.
	contact string
	// via is the Via sent-by; default the client's socket.
	via string
	// last is the last REGISTER sent, for retransmit.
	last []byte
}

// newKamRegClient connects to k over network: "udp", "tcp" or "tls".
// Over TLS it trusts the CA of k's opts.TLS only and expects the
// certificate to name "localhost".
func newKamRegClient(t *testing.T, k *kamailio, network, user string) *kamRegClient {
	t.Helper()
	var conn net.Conn
	var err error
	if network == "tls" {
		cfg := k.opts.TLS.ClientConfig()
		cfg.ServerName = "localhost"
		d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: cfg}
		conn, err = d.Dial("tcp", k.TLSAddr())
	} else {
		conn, err = net.DialTimeout(network, k.Addr(), 5*time.Second)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	c := &kamRegClient{t: t, k: k, conn: conn, proto: strings.ToUpper(network), user: user,
		callID: fmt.Sprintf("kamreg-%d-%d@127.0.0.1", k.Port, time.Now().UnixNano())}
	if network != "udp" {
		c.rd = bufio.NewReader(conn)
	}
	if network == "tls" {
		c.contact = "sip:" + user + "@" + conn.LocalAddr().String() + ";transport=tls"
	}
	return c
}

// register sends one REGISTER, with header: value if header is not
// empty, and returns kamailio's final response.
func (c *kamRegClient) register(expires int, header, value string) *siplib.Response {
	c.t.Helper()
	c.cseq++
	local := c.conn.LocalAddr().String()
	via, contact := c.via, c.contact
	if via == "" {
		via = local
	}
	if contact == "" {
		contact = "sip:" + c.user + "@" + local
	}
	var b strings.Builder
	fmt.Fprintf(&b, "REGISTER sip:%s SIP/2.0\r\n", c.k.opts.Realm)
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s;branch=z9hG4bK-kamreg-%d-%d;rport\r\n", c.proto, via, time.Now().UnixNano(), c.cseq)
	b.WriteString("Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: <sip:%s@%s>;tag=kamreg\r\n", c.user, c.k.opts.Realm)
	fmt.Fprintf(&b, "To: <sip:%s@%s>\r\n", c.user, c.k.opts.Realm)
	fmt.Fprintf(&b, "Call-ID: %s\r\n", c.callID)
	fmt.Fprintf(&b, "CSeq: %d REGISTER\r\n", c.cseq)
	fmt.Fprintf(&b, "Contact: <%s>\r\n", contact)
	fmt.Fprintf(&b, "Expires: %d\r\n", expires)
	b.WriteString("User-Agent: kamailio-harness-test\r\n")
	if header != "" {
		fmt.Fprintf(&b, "%s: %s\r\n", header, value)
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	c.last = []byte(b.String())
	return c.retransmit()
}

// retransmit sends the last REGISTER again, unchanged, and returns the
// final response.
func (c *kamRegClient) retransmit() *siplib.Response {
	c.t.Helper()
	if _, err := c.conn.Write(c.last); err != nil {
		c.t.Fatal(err)
	}
	buf := make([]byte, 65536)
	for {
		_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		var raw []byte
		if c.rd != nil {
			var err error
			if raw, err = readStreamMessage(c.rd); err != nil {
				c.t.Fatalf("no response to REGISTER: %v", err)
			}
		} else {
			n, err := c.conn.Read(buf)
			if err != nil {
				c.t.Fatalf("no response to REGISTER: %v", err)
			}
			raw = buf[:n]
		}
		msg, err := siplib.ParseMessage(raw)
		if err != nil {
			c.t.Fatalf("bad response %v:\n%s", err, raw)
		}
		res, ok := msg.(*siplib.Response)
		if !ok {
			c.t.Fatalf("not a response:\n%s", raw)
		}
		if cs := res.CSeq(); cs != nil && int(cs.SeqNo) != c.cseq {
			continue // a late answer to an earlier request
		}
		if res.StatusCode >= 200 {
			return res
		}
	}
}

// challenge returns the digest challenge in a 401 or 407 and the header
// that answers it.
func (c *kamRegClient) challenge(res *siplib.Response) (*digest.Challenge, string) {
	c.t.Helper()
	name, answer := "WWW-Authenticate", "Authorization"
	if res.StatusCode == 407 {
		name, answer = "Proxy-Authenticate", "Proxy-Authorization"
	}
	h := res.GetHeader(name)
	if h == nil {
		c.t.Fatalf("%d without %s:\n%s", res.StatusCode, name, res)
	}
	chal, err := digest.ParseChallenge(h.Value())
	if err != nil {
		c.t.Fatalf("challenge %q: %v", h.Value(), err)
	}
	return chal, answer
}

// answer answers the challenge in res with password and nonce count nc.
func (c *kamRegClient) answer(res *siplib.Response, password string, nc int) (header, value string) {
	c.t.Helper()
	chal, header := c.challenge(res)
	cred, err := digest.Digest(chal, digest.Options{
		Method: "REGISTER", URI: "sip:" + c.k.opts.Realm,
		Username: c.user, Password: password, Count: nc,
	})
	if err != nil {
		c.t.Fatal(err)
	}
	return header, cred.String()
}

// login registers for expires seconds, answering the challenge, and
// returns the 200 and the credentials it took.
func (c *kamRegClient) login(expires int, password string) (res *siplib.Response, header, value string) {
	c.t.Helper()
	res = c.register(expires, "", "")
	if res.StatusCode != 401 && res.StatusCode != 407 {
		c.t.Fatalf("REGISTER without credentials: %d, want a challenge\n%s", res.StatusCode, res)
	}
	header, value = c.answer(res, password, 1)
	return c.register(expires, header, value), header, value
}

func wantStatus(t *testing.T, k *kamailio, what string, res *siplib.Response, code int) {
	t.Helper()
	if res.StatusCode != code {
		t.Fatalf("%s: %d %s, want %d\n%s", what, res.StatusCode, res.Reason, code, res)
	}
}

// TestKamailioHarness checks the kamailio harness: 407 challenges as
// Twilio sends them, a wrong password re-challenged and not saved, the
// contact and the log markers of a registration, and a restart that
// forgets everything.
func TestKamailioHarness(t *testing.T) {
	const password = `pa$$ "w\rd` // survives the config's string quoting
	k := startKamailio(t, kamailioOpts{Realm: "sip.twilio.com", User: "agent", Password: password, Proxy407: true})
	c := newKamRegClient(t, k, "udp", "agent")

	res := c.register(60, "", "")
	wantStatus(t, k, "REGISTER without credentials", res, 407)
	chal, header := c.challenge(res)
	if chal.Realm != "sip.twilio.com" || !chal.SupportsQOP("auth") || chal.Stale || header != "Proxy-Authorization" {
		t.Fatalf("challenge %s", res.GetHeader("Proxy-Authenticate").Value())
	}

	header, value := c.answer(res, "wrong", 1)
	res = c.register(60, header, value)
	wantStatus(t, k, "REGISTER with a wrong password", res, 407)
	if cs := k.Contacts(t, "agent"); len(cs) != 0 {
		t.Fatalf("a wrong password saved contacts: %+v", cs)
	}

	header, value = c.answer(res, password, 1)
	res = c.register(60, header, value)
	wantStatus(t, k, "REGISTER with credentials", res, 200)
	local := c.conn.LocalAddr().String()
	if h := res.GetHeader("Contact"); h == nil || h.Value() != "<sip:agent@"+local+">;expires=60" {
		t.Errorf("200 Contact: %v", h)
	}
	cs := k.WaitContacts(t, "agent@sip.twilio.com", 1, time.Second)
	want := kamContact{URI: "sip:agent@" + local, Transport: "udp", Socket: "udp:" + k.Addr(),
		CallID: c.callID, CSeq: 3, UserAgent: "kamailio-harness-test"}
	got := cs[0]
	if got.Expires < 55 || got.Expires > 60 {
		t.Errorf("contact expires in %ds, want 60", got.Expires)
	}
	got.Expires = 0
	if got != want {
		t.Errorf("contact %+v, want %+v", got, want)
	}
	for marker, n := range map[string]int{
		"KREG method=REGISTER auth=no ":                   1,
		"KREG method=REGISTER auth=yes ":                  2,
		"KCHALLENGE code=407 reason=nocredentials ":       1,
		"KCHALLENGE code=407 reason=password ":            1,
		"KSAVED aor=agent expires=60 contacts=1 result=1": 1,
	} {
		if got := k.WaitCount(marker, n, time.Second); got != n {
			t.Errorf("%d log lines with %q, want %d", got, marker, n)
		}
	}

	k.Restart(t)
	if cs := k.Contacts(t, "agent"); len(cs) != 0 {
		t.Fatalf("contacts after restart: %+v", cs)
	}
	// A restart changes kamailio's nonce secret: the old nonce is not
	// stale but unknown, and is challenged without stale=true.
	res = c.register(60, header, value)
	wantStatus(t, k, "REGISTER with a nonce from before the restart", res, 407)
	if chal, _ := c.challenge(res); chal.Stale {
		t.Errorf("old nonce challenged as stale")
	}
	if n := k.WaitCount("KCHALLENGE code=407 reason=invalid ", 1, time.Second); n != 1 {
		t.Errorf("%d challenges for an unknown nonce, want 1", n)
	}
	k.Stop()
	k.Stop()
}

// TestKamailioRegistrarRules pins down what kamailio 5.6 does with the
// corner cases a registration client meets.
func TestKamailioRegistrarRules(t *testing.T) {
	t.Run("401", func(t *testing.T) {
		t.Parallel()
		k := startKamailio(t, kamailioOpts{})
		c := newKamRegClient(t, k, "udp", "agent")
		res := c.register(60, "", "")
		wantStatus(t, k, "REGISTER without credentials", res, 401)
		if chal, header := c.challenge(res); chal.Realm != "sipagent.test" || !chal.SupportsQOP("auth") || header != "Authorization" {
			t.Fatalf("challenge %s", res.GetHeader("WWW-Authenticate").Value())
		}
		header, value := c.answer(res, "secret", 1)
		wantStatus(t, k, "REGISTER with credentials", c.register(60, header, value), 200)
		// A retransmission gets the same answer from tm's transaction:
		// logged as KRETRANS, not as another REGISTER or save.
		wantStatus(t, k, "retransmitted REGISTER", c.retransmit(), 200)
		if n := k.WaitCount("KRETRANS method=REGISTER", 1, time.Second); n != 1 {
			t.Errorf("%d retransmissions logged, want 1", n)
		}
		if reg, saved := k.Count("KREG "), k.Count("KSAVED "); reg != 2 || saved != 1 {
			t.Errorf("retransmission logged: %d KREG (want 2), %d KSAVED (want 1)", reg, saved)
		}
		// Without nonce_count the same response is accepted again while
		// the nonce lives: nc is not checked.
		wantStatus(t, k, "replayed credentials", c.register(60, header, value), 200)
		// Expires 0 removes the binding.
		wantStatus(t, k, "REGISTER expires 0", c.register(0, header, value), 200)
		k.WaitContacts(t, "agent", 0, time.Second)
		if n := k.WaitCount("KSAVED aor=agent expires=0 contacts=0 result=3", 1, time.Second); n != 1 {
			t.Errorf("%d de-registrations logged, want 1", n)
		}
	})
	t.Run("forbidden", func(t *testing.T) {
		t.Parallel()
		k := startKamailio(t, kamailioOpts{})
		// Any user name makes a valid digest with the right password;
		// only AUTH_USER may register.
		c := newKamRegClient(t, k, "udp", "other")
		res, _, _ := c.login(60, "secret")
		wantStatus(t, k, "REGISTER as another user", res, 403)
		if cs := k.Contacts(t, "other"); len(cs) != 0 {
			t.Fatalf("saved %+v", cs)
		}
	})
	t.Run("423", func(t *testing.T) {
		t.Parallel()
		k := startKamailio(t, kamailioOpts{MinExpires: 60})
		c := newKamRegClient(t, k, "udp", "agent")
		res, header, value := c.login(30, "secret")
		wantStatus(t, k, "REGISTER below min_expires", res, 423)
		if h := res.GetHeader("Min-Expires"); h == nil || h.Value() != "60" {
			t.Errorf("423 Min-Expires: %v", h)
		}
		if n := k.WaitCount("KSAVEFAIL aor=agent", 1, time.Second); n != 1 {
			t.Errorf("%d refused saves logged, want 1", n)
		}
		if cs := k.Contacts(t, "agent"); len(cs) != 0 {
			t.Fatalf("saved %+v", cs)
		}
		wantStatus(t, k, "REGISTER at min_expires", c.register(60, header, value), 200)
		k.WaitContacts(t, "agent", 1, time.Second)
	})
	t.Run("max_expires", func(t *testing.T) {
		t.Parallel()
		k := startKamailio(t, kamailioOpts{MaxExpires: 120})
		c := newKamRegClient(t, k, "udp", "agent")
		res, _, _ := c.login(7200, "secret")
		wantStatus(t, k, "REGISTER above max_expires", res, 200)
		if h := res.GetHeader("Contact"); h == nil || !strings.HasSuffix(h.Value(), ";expires=120") {
			t.Errorf("200 Contact: %v", h)
		}
		if cs := k.WaitContacts(t, "agent", 1, time.Second); cs[0].Expires > 120 || cs[0].Expires < 115 {
			t.Errorf("contact expires in %ds, want 120", cs[0].Expires)
		}
	})
	t.Run("nonce_count", func(t *testing.T) {
		t.Parallel()
		k := startKamailio(t, kamailioOpts{NonceCount: true})
		c := newKamRegClient(t, k, "udp", "agent")
		chal := c.register(60, "", "")
		wantStatus(t, k, "REGISTER without credentials", chal, 401)
		header, value := c.answer(chal, "secret", 1)
		wantStatus(t, k, "nc=1", c.register(60, header, value), 200)
		// A replayed nc is challenged as stale.
		res := c.register(60, header, value)
		wantStatus(t, k, "nc=1 again", res, 401)
		if ch, _ := c.challenge(res); !ch.Stale {
			t.Errorf("replayed nc not challenged as stale")
		}
		header, value = c.answer(chal, "secret", 3) // nc may skip
		wantStatus(t, k, "nc=3", c.register(60, header, value), 200)
		header, value = c.answer(chal, "secret", 2) // but not go back
		wantStatus(t, k, "nc=2 after 3", c.register(60, header, value), 401)
		if n := k.WaitCount("KCHALLENGE code=401 reason=stale ", 2, time.Second); n != 2 {
			t.Errorf("%d stale challenges, want 2", n)
		}
	})
	t.Run("stale", func(t *testing.T) {
		t.Parallel()
		k := startKamailio(t, kamailioOpts{NonceExpire: time.Second, Proxy407: true})
		c := newKamRegClient(t, k, "udp", "agent")
		res, header, value := c.login(60, "secret")
		wantStatus(t, k, "REGISTER with credentials", res, 200)
		// The nonce is good for 1 s, counted in whole seconds: refresh
		// with it until kamailio calls it stale.
		deadline := time.Now().Add(5 * time.Second)
		for {
			res = c.register(60, header, value)
			if res.StatusCode != 200 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("nonce still accepted after 5s")
			}
			time.Sleep(100 * time.Millisecond)
		}
		wantStatus(t, k, "REGISTER with an expired nonce", res, 407)
		chal, _ := c.challenge(res)
		if !chal.Stale {
			t.Errorf("expired nonce challenged without stale=true: %s", res.GetHeader("Proxy-Authenticate").Value())
		}
		if n := k.WaitCount("KCHALLENGE code=407 reason=stale ", 1, time.Second); n != 1 {
			t.Errorf("%d stale challenges, want 1", n)
		}
		header, value = c.answer(res, "secret", 1)
		wantStatus(t, k, "REGISTER with the new nonce", c.register(60, header, value), 200)
	})
	t.Run("tcp", func(t *testing.T) {
		t.Parallel()
		k := startKamailio(t, kamailioOpts{})
		c := newKamRegClient(t, k, "tcp", "agent")
		res, _, _ := c.login(60, "secret")
		wantStatus(t, k, "REGISTER over TCP", res, 200)
		cs := k.WaitContacts(t, "agent", 1, time.Second)
		if cs[0].Transport != "tcp" || cs[0].Received != "" {
			t.Errorf("contact %+v, want tcp and no received", cs[0])
		}
		// A Via that is not the source (a client behind NAT, or one that
		// puts its listening port in Via) makes kamailio record where the
		// REGISTER came from: lookup() then sends requests there.
		c.via = "127.0.0.1:5999"
		c.contact = "sip:agent@127.0.0.1:5999;transport=tcp"
		res, _, _ = c.login(60, "secret")
		wantStatus(t, k, "REGISTER over TCP with another Via", res, 200)
		cs = k.WaitContacts(t, "agent", 2, time.Second)
		for _, ct := range cs {
			if ct.URI == c.contact {
				if want := "sip:" + c.conn.LocalAddr().String() + ";transport=tcp"; ct.Received != want {
					t.Errorf("received %q, want %q", ct.Received, want)
				}
			}
		}
		t.Logf("200: %s\ncontacts: %+v", res.GetHeader("Contact").Value(), cs)
	})
}

// TestKamailioTLSHarness checks kamailio's TLS listener: a handshake
// that verifies against the test CA, a challenge and a registration over
// TLS saved with transport tls, requests routed to the TLS contact over
// the registration's own connection and, for a contact elsewhere, over a
// connection kamailio opens, and the same port after a restart.
func TestKamailioTLSHarness(t *testing.T) {
	pki := siptest.NewPKI(t, []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	k := startKamailio(t, kamailioOpts{TLS: pki})
	if k.TLSPort == 0 || k.TLSPort == k.Port {
		t.Fatalf("TLS port %d, SIP port %d", k.TLSPort, k.Port)
	}
	tlsPort := k.TLSPort
	via := "TLS " + k.TLSAddr() // kamailio's Via on what it relays over TLS

	c := newKamRegClient(t, k, "tls", "agent")
	st := c.conn.(*tls.Conn).ConnectionState()
	if st.Version < tls.VersionTLS12 || len(st.PeerCertificates) == 0 || !st.PeerCertificates[0].Equal(pki.Cert.Leaf) {
		t.Fatalf("TLS version %#x, %d peer certificates: not the test leaf", st.Version, len(st.PeerCertificates))
	}
	res := c.register(60, "", "")
	wantStatus(t, k, "REGISTER over TLS without credentials", res, 401)
	header, value := c.answer(res, "secret", 1)
	wantStatus(t, k, "REGISTER over TLS with credentials", c.register(60, header, value), 200)
	cs := k.WaitContacts(t, "agent", 1, time.Second)
	want := kamContact{URI: c.contact, Transport: "tls", Socket: "tls:" + k.TLSAddr(),
		CallID: c.callID, CSeq: 2, UserAgent: "kamailio-harness-test"}
	got := cs[0]
	got.Expires = 0
	if got != want {
		t.Errorf("contact %+v, want %+v", got, want)
	}
	from := "from=" + c.conn.LocalAddr().String() + " proto=tls "
	for marker, n := range map[string]int{from + "to=": 2, from + "callid=": 1} { // KREG, KSAVED
		if got := k.WaitCount(marker, n, time.Second); got != n {
			t.Errorf("%d log lines with %q, want %d", got, marker, n)
		}
	}
	kamRouteBack(t, k, "agent", via, func() (net.Conn, *bufio.Reader) { return c.conn, c.rd })

	// A contact that is not the REGISTER's source: kamailio connects to
	// it, as a TLS client that does not verify the certificate.
	wantStatus(t, k, "REGISTER expires 0", c.register(0, header, value), 200)
	k.WaitContacts(t, "agent", 0, time.Second)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", pki.ServerConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	accepted := make(chan net.Conn, 1)
	go func() {
		conn, _ := ln.Accept() // nil once the listener is closed
		accepted <- conn
	}()
	c.contact = "sip:agent@" + ln.Addr().String() + ";transport=tls"
	wantStatus(t, k, "REGISTER of a TLS listener", c.register(60, header, value), 200)
	if cs := k.WaitContacts(t, "agent", 1, time.Second); cs[0].URI != c.contact || cs[0].Received != "" {
		t.Errorf("contact %+v, want %s and no received", cs[0], c.contact)
	}
	kamRouteBack(t, k, "agent", via, func() (net.Conn, *bufio.Reader) {
		select {
		case conn := <-accepted:
			if conn == nil {
				return nil, nil
			}
			t.Cleanup(func() { _ = conn.Close() })
			return conn, bufio.NewReader(conn)
		case <-time.After(5 * time.Second):
			return nil, nil
		}
	})

	k.Restart(t)
	if k.TLSPort != tlsPort {
		t.Fatalf("TLS port %d after restart, was %d", k.TLSPort, tlsPort)
	}
	c = newKamRegClient(t, k, "tls", "agent")
	res, _, _ = c.login(60, "secret")
	wantStatus(t, k, "REGISTER over TLS after restart", res, 200)
	if cs := k.WaitContacts(t, "agent", 1, time.Second); cs[0].Transport != "tls" || cs[0].URI != c.contact {
		t.Errorf("contact after restart %+v", cs[0])
	}
}

// kamRouteBack sends OPTIONS for user to kamailio over UDP, as a caller
// would, and checks that kamailio relays it, with top Via wantVia
// ("TLS 127.0.0.1:5061"), on the stream conn returns (nil if there is
// none), and relays its 200 back.
func kamRouteBack(t *testing.T, k *kamailio, user, wantVia string, conn func() (net.Conn, *bufio.Reader)) {
	t.Helper()
	u, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: k.Port})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = u.Close() }()
	callID := fmt.Sprintf("kamback-%d@127.0.0.1", time.Now().UnixNano())
	_, err = fmt.Fprintf(u, "OPTIONS sip:%[1]s@%[2]s SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP %[3]s;branch=z9hG4bK-%[4]s;rport\r\n"+
		"Max-Forwards: 70\r\n"+
		"From: <sip:harness@127.0.0.1>;tag=kamback\r\n"+
		"To: <sip:%[1]s@%[2]s>\r\n"+
		"Call-ID: %[4]s\r\n"+
		"CSeq: 1 OPTIONS\r\n"+
		"Content-Length: 0\r\n\r\n", user, k.opts.Realm, u.LocalAddr(), callID)
	if err != nil {
		t.Fatal(err)
	}

	sc, rd := conn()
	if sc == nil {
		t.Fatal("kamailio did not connect to the contact")
	}
	_ = sc.SetReadDeadline(time.Now().Add(5 * time.Second))
	raw, err := readStreamMessage(rd)
	if err != nil {
		t.Fatalf("no OPTIONS relayed to the contact: %v", err)
	}
	msg, err := siplib.ParseMessage(raw)
	if err != nil {
		t.Fatalf("bad request %v:\n%s", err, raw)
	}
	req, ok := msg.(*siplib.Request)
	if !ok || req.Method != siplib.OPTIONS || req.CallID().Value() != callID {
		t.Fatalf("relayed to the contact:\n%s", raw)
	}
	if v := req.Via(); v == nil || v.Transport+" "+v.SentBy() != wantVia {
		t.Errorf("relayed with Via %v, want %s", v, wantVia)
	}
	var b strings.Builder
	b.WriteString("SIP/2.0 200 OK\r\n")
	for _, h := range req.GetHeaders("Via") {
		fmt.Fprintf(&b, "%s\r\n", h)
	}
	fmt.Fprintf(&b, "%s\r\n%s;tag=kamback\r\n%s\r\n%s\r\nContent-Length: 0\r\n\r\n", req.From(), req.To(), req.CallID(), req.CSeq())
	if _, err := sc.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}

	buf := make([]byte, 65536)
	_ = u.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		n, err := u.Read(buf)
		if err != nil {
			t.Fatalf("no 200 relayed back: %v", err)
		}
		if strings.HasPrefix(string(buf[:n]), "SIP/2.0 1") {
			continue // 100 Trying
		}
		if !strings.HasPrefix(string(buf[:n]), "SIP/2.0 200 ") {
			t.Fatalf("relayed back:\n%s", buf[:n])
		}
		return
	}
}

// kamUAS answers one INVITE and its BYE, copying Record-Route so that
// in-dialog requests go through kamailio.
const kamUAS = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="kamailio callee">
  <recv request="INVITE"/>
  <send>
    <![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Record-Route:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0
    ]]>
  </send>
  <send retrans="500">
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Record-Route:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=callee 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
    ]]>
  </send>
  <recv request="ACK"/>
  <recv request="BYE"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>
</scenario>
`

// kamUAC calls, then sends ACK and BYE along the route set of the 200, as
// a caller behind a record-routing proxy should.
const kamUAC = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="kamailio caller">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: "sipp" <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=caller 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true" rrs="true"/>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      [routes]
      From: "sipp" <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      [routes]
      From: "sipp" <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200"/>
</scenario>
`

// kamUASCancel rings until the caller cancels.
const kamUASCancel = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="kamailio callee, cancelled">
  <recv request="INVITE"/>
  <send>
    <![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Record-Route:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0
    ]]>
  </send>
  <recv request="CANCEL"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>
  <send>
    <![CDATA[
      SIP/2.0 487 Request Terminated
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      CSeq: [last_cseq_number] INVITE
      Content-Length: 0
    ]]>
  </send>
  <recv request="ACK"/>
</scenario>
`

// kamSipp runs one sipp call (-m 1) on 127.0.0.1 with args, bounded by
// ctx and sipp's own -timeout, and returns the tail of its output.
func kamSipp(ctx context.Context, t *testing.T, dir string, args ...string) (string, error) {
	bin, err := exec.LookPath("sipp")
	if err != nil {
		return "", errors.New("sipp not found: run `make deps` (Debian package sip-tester)")
	}
	base := []string{
		"-i", "127.0.0.1", "-mi", "127.0.0.1",
		"-mp", strconv.Itoa(freeEvenPortPair(t)),
		"-m", "1", "-timeout", "10s", "-timeout_error", "-nostdin",
	}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return lastLines(out, 30), err
}

// TestKamailioCallThrough calls a registered sipp UAS through kamailio
// with sipp: with sipp's stock caller, which sends ACK and BYE to the
// proxy's address without Route headers; with a caller that follows the
// route set; and with a caller that cancels while the UAS rings.
func TestKamailioCallThrough(t *testing.T) {
	k := startKamailio(t, kamailioOpts{})
	dir := t.TempDir()
	for name, scen := range map[string]string{"uas.xml": kamUAS, "uas_cancel.xml": kamUASCancel, "uac.xml": kamUAC} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(scen), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	uacCancel, err := filepath.Abs("../testdata/sipp/uac_cancel.xml")
	if err != nil {
		t.Fatal(err)
	}
	for _, call := range []struct {
		name    string
		uas     string
		uac     []string
		markers []string // kamailio log lines the call must leave, once each
	}{
		{"stock", "uas.xml", []string{"-sn", "uac"},
			[]string{"KROUTE method=INVITE", "KREPLY code=200 method=INVITE", "KINDLG method=ACK via=location", "KINDLG method=BYE via=location"}},
		{"route-set", "uas.xml", []string{"-sf", filepath.Join(dir, "uac.xml")},
			[]string{"KROUTE method=INVITE", "KREPLY code=200 method=INVITE", "KINDLG method=ACK via=route", "KINDLG method=BYE via=route"}},
		{"cancel", "uas_cancel.xml", []string{"-sf", uacCancel},
			[]string{"KROUTE method=INVITE", "KREPLY code=200 method=CANCEL", "KREPLY code=487 method=INVITE"}},
	} {
		t.Run(call.name, func(t *testing.T) {
			uasPort := freePortOn(t, "udp", "127.0.0.1")
			c := newKamRegClient(t, k, "udp", "agent")
			c.contact = fmt.Sprintf("sip:agent@127.0.0.1:%d", uasPort)
			res, header, value := c.login(60, "secret")
			wantStatus(t, k, "REGISTER for the UAS", res, 200)

			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			type result struct {
				out string
				err error
			}
			uasDone := make(chan result, 1)
			go func() {
				out, err := kamSipp(ctx, t, dir, "-sf", filepath.Join(dir, call.uas), "-p", strconv.Itoa(uasPort))
				uasDone <- result{out, err}
			}()
			// No wait for the UAS to bind: kamailio retransmits the INVITE.
			before := map[string]int{}
			for _, m := range call.markers {
				before[m] = k.Count(m)
			}
			args := append(call.uac, "-s", "agent", "-p", strconv.Itoa(freePortOn(t, "udp", "127.0.0.1")), k.Addr())
			out, err := kamSipp(ctx, t, dir, args...)
			uas := <-uasDone
			if err != nil || uas.err != nil {
				t.Fatalf("caller: %v\n%s\ncallee: %v\n%s", err, out, uas.err, uas.out)
			}
			for _, m := range call.markers {
				if n := k.WaitCount(m, before[m]+1, time.Second) - before[m]; n != 1 {
					t.Errorf("%d log lines with %q, want 1", n, m)
				}
			}
			// Unregister the UAS: the next call registers a new one.
			wantStatus(t, k, "REGISTER expires 0", c.register(0, header, value), 200)
			k.WaitContacts(t, "agent", 0, time.Second)
		})
	}
}
