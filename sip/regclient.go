package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/sipagent/sipagent/sip/digest"
)

// registration keeps one Account registered: REGISTER with digest
// (RFC 3261 s.10.2, s.22), refresh before the granted expiry, backoff on
// failure, NAT keepalives, and Expires: 0 on shutdown.
type registration struct {
	srv         *Server
	acct        Account
	log         *slog.Logger
	auth        *digest.Client
	timing      RetryTiming
	callID      string // one Call-ID for every REGISTER of this boot (s.10.2)
	fromTag     string
	contactUser string

	ctx    context.Context // cancelled by stop: ends waits and transactions
	cancel context.CancelFunc

	mu          sync.Mutex
	st          RegistrationStatus
	cseq        uint32
	expires     time.Duration   // asked for; raised by 423
	contact     sip.Uri         // the Contact we register
	dest        netip.AddrPort  // where REGISTERs go
	local       endpoint        // our side of the path to dest
	natContact  *netip.AddrPort // what the registrar saw, when it differs
	registrarIP netip.Addr      // the registrar's source address, trusted
	authHeader  string          // "Authorization" or "Proxy-Authorization"
}

// unregisterTimeout bounds the Expires: 0 exchange at shutdown.
const unregisterTimeout = 3 * time.Second

// maxRounds bounds the requests of one registration attempt: a challenge,
// a stale nonce, a 423 and a NAT correction each cost one.
const maxRounds = 6

func newRegistration(s *Server, acct Account, contactUser string, timing RetryTiming) *registration {
	authUser := acct.AuthUsername
	if authUser == "" {
		authUser = acct.Username
	}
	ctx, cancel := context.WithCancel(context.Background())
	aor := acct.AOR()
	r := &registration{
		srv:         s,
		acct:        acct,
		log:         s.log.With("account", acct.Name),
		auth:        digest.NewClient(authUser, acct.Password),
		timing:      timing,
		callID:      newTag() + newTag(),
		fromTag:     newTag(),
		contactUser: contactUser,
		ctx:         ctx,
		cancel:      cancel,
		expires:     acct.Expires,
	}
	r.st = RegistrationStatus{
		Account:   acct.Name,
		AOR:       aor.String(),
		Registrar: acct.Registrar.String(),
		Transport: acct.Transport,
		State:     RegStarting,
	}
	return r
}

func (r *registration) status() RegistrationStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st
}

func (r *registration) isRegistrarSource(src netip.Addr) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.registrarIP.IsValid() && r.registrarIP == src
}

// regError is a failed registration attempt. refused means the registrar
// turned the credentials down: retrying soon cannot help.
type regError struct {
	msg        string
	refused    bool
	retryAfter time.Duration
}

func (e *regError) Error() string { return e.msg }

func transient(format string, args ...any) *regError {
	return &regError{msg: fmt.Sprintf(format, args...)}
}

func refused(format string, args ...any) *regError {
	return &regError{msg: fmt.Sprintf(format, args...), refused: true}
}

// run registers, refreshes and retries until stop, then unregisters.
func (r *registration) run() {
	defer r.srv.accounts.wg.Done()
	netBackoff := backoff{min: r.timing.Min, max: r.timing.Max}
	authBackoff := backoff{min: r.timing.AuthMin, max: r.timing.AuthMax}
	registered := false
	var boundUntil time.Time // until when the registrar may hold our Contact
	for {
		granted, err := r.attempt(r.ctx, false)
		if err == nil {
			boundUntil = time.Now().Add(granted)
		}
		if r.ctx.Err() != nil {
			if err != nil {
				// Stopped mid-exchange: the registrar may have bound us
				// before the answer came back.
				boundUntil = time.Now().Add(r.expires)
			}
			break
		}
		var wait time.Duration
		var re *regError
		switch {
		case err == nil:
			netBackoff.reset()
			authBackoff.reset()
			wait = refreshIn(granted)
			r.setRegistered(granted)
			if !registered {
				r.log.Info("registered", "aor", r.st.AOR, "contact", r.contact.String(), "expires", granted, "registrar", r.dest.String())
			} else {
				r.log.Debug("registration refreshed", "expires", granted)
			}
			registered = true
		case errors.As(err, &re) && re.refused:
			wait = authBackoff.next()
			r.setFailed(RegRefused, err, wait)
			r.log.Error("registration refused; check the account's username and password", "error", err, "retry_in", wait.Round(time.Second))
			registered = false
		default:
			wait = netBackoff.next()
			if errors.As(err, &re) && re.retryAfter > wait {
				wait = re.retryAfter
			}
			r.setFailed(RegRetrying, err, wait)
			r.log.Warn("registration failed", "error", err, "retry_in", wait.Round(time.Second))
			registered = false
		}
		if !r.sleep(wait, registered) {
			break
		}
	}
	// A failed refresh leaves the last binding in place until it
	// expires, so it is removed too (RFC 3261 s.10.2.2).
	if time.Now().Before(boundUntil) {
		r.unregister()
	}
	r.mu.Lock()
	r.st.State, r.st.Until, r.st.Retry = RegUnregistered, time.Time{}, time.Time{}
	r.registrarIP = netip.Addr{} // no longer ours to trust
	r.mu.Unlock()
}

// refreshIn is when to refresh a registration granted for g: at three
// quarters of it, which leaves room for a full transaction timeout
// (32 s over UDP) on any expiry of two minutes or more.
func refreshIn(g time.Duration) time.Duration {
	return max(g*3/4, 500*time.Millisecond)
}

func (r *registration) setRegistered(granted time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.st.State = RegRegistered
	r.st.Contact = r.contact.String()
	r.st.Until = time.Now().Add(granted)
	r.st.Retry = time.Time{}
	r.st.LastError = ""
	r.st.Failures = 0
}

func (r *registration) setFailed(state string, err error, wait time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if state == RegRefused {
		r.registrarIP = netip.Addr{} // not registered: calls from it are not ours
	}
	r.st.State = state
	r.st.Until = time.Time{}
	r.st.Retry = time.Now().Add(wait)
	r.st.LastError = err.Error()
	r.st.Failures++
}

// sleep waits d, sending keepalives while registered, and returns early
// (true) when a stream connection to the registrar is lost, so that the
// next REGISTER opens a new one at once. It returns false on stop.
func (r *registration) sleep(d time.Duration, registered bool) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	var tick <-chan time.Time
	ka := r.acct.KeepAlive
	if registered && ka > 0 {
		// A lost TCP connection is noticed within a second; keepalives
		// go out every ka.
		period := ka
		if r.acct.Transport != "udp" {
			period = min(ka, time.Second)
		}
		t := time.NewTicker(period)
		defer t.Stop()
		tick = t.C
	}
	lastKA := time.Now()
	for {
		select {
		case <-r.ctx.Done():
			return false
		case <-timer.C:
			return true
		case now := <-tick:
			if r.acct.Transport != "udp" && !r.connAlive() {
				r.log.Info("connection to registrar lost; registering again", "registrar", r.dest.String())
				return true
			}
			if now.Sub(lastKA) >= ka-ka/10 {
				lastKA = now
				r.keepAlive()
			}
		}
	}
}

// stop ends the loop; run unregisters before it returns.
func (r *registration) stop() { r.cancel() }

// attempt runs one registration exchange: challenges, stale nonces, 423
// and a NAT correction each cost a round. unregister asks for Expires: 0.
func (r *registration) attempt(ctx context.Context, unregister bool) (time.Duration, error) {
	// Unregistering reuses the last destination: at shutdown a DNS
	// lookup would only add delay.
	if !unregister || !r.dest.IsValid() {
		if err := r.resolve(ctx); err != nil {
			return 0, err
		}
	}
	answeredFresh := false // our last credentials answered a challenge to the request before
	stales := 0
	var stale *sip.Uri // a Contact to remove in the same request, after a NAT correction
	for round := 0; round < maxRounds; round++ {
		req, sentAuth, err := r.newRequest(unregister, stale)
		if err != nil {
			return 0, transient("%v", err)
		}
		res, err := r.send(ctx, req)
		if err != nil {
			return 0, transient("no answer from %s: %v", r.dest, err)
		}
		code := res.StatusCode
		switch {
		case code >= 200 && code < 300:
			r.mu.Lock()
			r.registrarIP = sourceOf(res).Addr()
			r.mu.Unlock()
			if unregister {
				return 0, nil
			}
			if stale == nil {
				if old, moved := r.correctContact(res); moved {
					stale = &old
					continue
				}
			}
			return r.granted(res), nil
		case code == 401 || code == 407:
			name, answer := "WWW-Authenticate", "Authorization"
			if code == 407 {
				name, answer = "Proxy-Authenticate", "Proxy-Authorization"
			}
			isStale, cerr := r.auth.Challenged(headerValues(res, name))
			if cerr != nil {
				return 0, refused("%d with a challenge sipagent cannot answer: %v", code, cerr)
			}
			r.mu.Lock()
			r.authHeader = answer
			r.mu.Unlock()
			if isStale {
				// RFC 7616 s.3.3: the password was right; only the nonce
				// was old. Not a failure.
				if stales++; stales > 2 {
					return 0, transient("registrar keeps answering stale=true")
				}
				answeredFresh = true
				continue
			}
			if sentAuth && answeredFresh {
				return 0, refused("%d %s: credentials refused for user %q", code, res.Reason, r.auth.Username())
			}
			answeredFresh = true
		case code == 423:
			// RFC 3261 s.10.2.8: ask again for at least Min-Expires.
			min, ok := minExpires(res)
			r.mu.Lock()
			cur := r.expires
			if ok && min > cur {
				r.expires = min
			}
			r.mu.Unlock()
			if !ok || min <= cur {
				return 0, transient("423 Interval Too Brief without a usable Min-Expires")
			}
			r.log.Info("registrar wants a longer expiry", "min_expires", min)
		case code == 403:
			return 0, refused("403 %s", res.Reason)
		default:
			e := transient("%d %s", code, res.Reason)
			e.retryAfter = retryAfter(res)
			return 0, e
		}
	}
	return 0, transient("no final answer after %d requests", maxRounds)
}

// resolve works out, once per attempt, where REGISTERs go and which of
// our addresses the registrar can reach. A DNS failure is transient.
func (r *registration) resolve(ctx context.Context) error {
	target := r.acct.Registrar
	if r.acct.Proxy != nil {
		target = *r.acct.Proxy
	}
	ip, err := resolveHostContext(ctx, target.Host)
	if err != nil {
		return transient("resolving %s: %v", target.Host, err)
	}
	port := target.Port
	if port == 0 {
		port = 5060
	}
	dest := netip.AddrPortFrom(ip, uint16(port))
	l := r.srv.Addr(r.acct.Transport)
	ep := endpoint{transport: r.acct.Transport, bind: l.Addr(), port: int(l.Port())}
	ep.advertise = ep.bind
	if !ep.bind.IsValid() || ep.bind.IsUnspecified() {
		ep.advertise = routeTo(ip)
	}
	if r.srv.externalIP.IsValid() {
		ep.advertise = r.srv.externalIP
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	r.dest, r.local = dest, ep
	host, port2 := r.srv.contact(ep).Address.Host, ep.port
	if r.natContact != nil {
		host, port2 = r.natContact.Addr().String(), int(r.natContact.Port())
	}
	r.contact = sip.Uri{Scheme: "sip", User: r.contactUser, Host: host, Port: port2}
	if r.acct.Transport != "udp" {
		r.contact.UriParams = sip.NewParams()
		r.contact.UriParams.Add("transport", r.acct.Transport)
	}
	return nil
}

// newRequest builds the next REGISTER. sentAuth reports whether it
// carries credentials (from the last challenge, nonce reused with the
// next nonce count: RFC 7616 s.3.4).
func (r *registration) newRequest(unregister bool, remove *sip.Uri) (*sip.Request, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cseq++
	aor := r.acct.AOR()
	// From the listener over UDP, so that the registrar's NAT binding
	// and rport point at the socket calls arrive on.
	req := r.srv.newRequest(sip.REGISTER, r.acct.Registrar, r.local)
	if r.acct.Proxy != nil {
		// RFC 3261 s.8.1.2: an outbound proxy is a loose-routing Route.
		route := *r.acct.Proxy
		route.UriParams = sip.NewParams()
		route.UriParams.Add("lr", "")
		req.AppendHeader(&sip.RouteHeader{Address: route})
	}
	maxFwd := sip.MaxForwardsHeader(70)
	req.AppendHeader(&maxFwd)
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", r.fromTag)
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor, Params: sip.NewParams()})
	cid := sip.CallIDHeader(r.callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: r.cseq, MethodName: sip.REGISTER})
	expires := int(r.expires / time.Second)
	if unregister {
		expires = 0
	}
	req.AppendHeader(&sip.ContactHeader{Address: r.contact})
	if remove != nil {
		old := &sip.ContactHeader{Address: *remove, Params: sip.NewParams()}
		old.Params.Add("expires", "0")
		req.AppendHeader(old)
	}
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	req.AppendHeader(sip.NewHeader("User-Agent", r.srv.cfg.UserAgent))
	req.AppendHeader(allowHeader())

	sentAuth := false
	if r.authHeader != "" {
		cred, err := r.auth.Authorization(string(sip.REGISTER), r.acct.Registrar.String())
		if err != nil {
			return nil, false, err
		}
		req.AppendHeader(sip.NewHeader(r.authHeader, cred))
		sentAuth = true
	}
	req.SetBody(nil)
	req.SetDestination(r.dest.String())
	return req, sentAuth, nil
}

// send runs one client transaction to its final response.
func (r *registration) send(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	tx, err := r.srv.client.TransactionRequest(ctx, req, prebuilt)
	if err != nil {
		return nil, err
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			return res, nil
		case <-tx.Done():
			if err := tx.Err(); err != nil {
				return nil, err
			}
			return nil, errors.New("transaction ended without a response")
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// prebuilt tells sipgo the request is complete: without an option it
// adds headers of its own.
func prebuilt(*sipgo.Client, *sip.Request) error { return nil }

// granted is the expiry the registrar gave our Contact: its expires
// parameter in the 200, else the Expires header, else what we asked for
// (RFC 3261 s.10.2.4).
func (r *registration) granted(res *sip.Response) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	// sipgo's parser splits comma-separated Contacts into headers.
	for _, h := range res.GetHeaders("Contact") {
		ct, ok := h.(*sip.ContactHeader)
		if !ok || !sameContact(ct.Address, r.contact) {
			continue
		}
		if v, ok := ct.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				return time.Duration(n) * time.Second
			}
		}
	}
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	return r.expires
}

// correctContact looks at what the registrar saw of us (Via received and
// rport, RFC 3581 s.4) and, over UDP without an external_host, moves the
// Contact there when it differs: sipagent is behind a NAT, and calls must
// be sent to the NAT's public binding. It returns the Contact replaced.
func (r *registration) correctContact(res *sip.Response) (sip.Uri, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.acct.Transport != "udp" || r.srv.cfg.ExternalHost != "" {
		return sip.Uri{}, false
	}
	seen, ok := viaSeen(res)
	if !ok {
		return sip.Uri{}, false
	}
	cur, err := netip.ParseAddr(r.contact.Host)
	if err == nil && cur.Unmap() == seen.Addr() && r.contact.Port == int(seen.Port()) {
		return sip.Uri{}, false
	}
	old := r.contact
	r.natContact = &seen
	r.contact.Host, r.contact.Port = seen.Addr().String(), int(seen.Port())
	r.log.Info("registrar sees us at another address (NAT); registering that", "contact", r.contact.String(), "was", old.String())
	return old, true
}

// viaSeen returns the address the top Via's received and rport report.
func viaSeen(res *sip.Response) (netip.AddrPort, bool) {
	via := res.Via()
	if via == nil {
		return netip.AddrPort{}, false
	}
	host := via.Host
	if v, ok := via.Params.Get("received"); ok && v != "" {
		host = v
	}
	port := via.Port
	if v, ok := via.Params.Get("rport"); ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > 65535 {
			return netip.AddrPort{}, false
		}
		port = n
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || port <= 0 || port > 65535 {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(port)), true
}

// unregister removes our binding (Expires: 0, RFC 3261 s.10.2.2).
func (r *registration) unregister() {
	ctx, cancel := context.WithTimeout(context.Background(), unregisterTimeout)
	defer cancel()
	if _, err := r.attempt(ctx, true); err != nil {
		r.log.Warn("unregistering failed", "error", err)
		return
	}
	r.log.Info("unregistered", "aor", r.st.AOR)
}

func headerValues(res *sip.Response, name string) []string {
	hs := res.GetHeaders(name)
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.Value()
	}
	return out
}

func minExpires(res *sip.Response) (time.Duration, bool) {
	h := res.GetHeader("Min-Expires")
	if h == nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(h.Value()))
	if err != nil || n <= 0 || n > 1<<20 {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// retryAfter reads Retry-After seconds (RFC 3261 s.20.33), capped at an
// hour so that a hostile value cannot park the account for ever.
func retryAfter(res *sip.Response) time.Duration {
	h := res.GetHeader("Retry-After")
	if h == nil {
		return 0
	}
	v, _, _ := strings.Cut(h.Value(), ";")
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0
	}
	return min(time.Duration(n)*time.Second, time.Hour)
}

func sourceOf(m sip.Message) netip.AddrPort {
	ap, _ := netip.ParseAddrPort(m.Source())
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// sameContact compares the parts of two Contact URIs that identify a
// binding: user, host (case-insensitive) and port (RFC 3261 s.19.1.4).
func sameContact(a, b sip.Uri) bool {
	pa, pb := a.Port, b.Port
	if pa == 0 {
		pa = 5060
	}
	if pb == 0 {
		pb = 5060
	}
	return a.User == b.User && strings.EqualFold(a.Host, b.Host) && pa == pb
}
