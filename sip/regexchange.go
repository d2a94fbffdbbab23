package sip

// One REGISTER exchange of a registration: building the request,
// answering challenges, 423 and NAT corrections, and reading the answer.

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

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
			if cerr, ok := certError(err); ok {
				return 0, transient("TLS: the certificate of %s is not trusted: %v", r.destHost, cerr)
			}
			return 0, transient("no answer from %s: %v", r.dest, err)
		}
		code := res.StatusCode
		switch {
		case code >= 200 && code < 300:
			r.mu.Lock()
			src := sourceOf(res)
			r.registrarIP = src.Addr()
			if r.acct.Transport != "udp" && src.IsValid() {
				// The connection's far end: keepalives and the watch
				// for a lost connection look it up by this address, and
				// over TLS sipgo resolved the name itself.
				r.dest = src
			}
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
		port = defaultPort(r.acct.Transport)
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
	r.dest, r.local, r.destHost = dest, ep, target.Host
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
		if r.acct.Transport != "udp" {
			route.UriParams.Add("transport", r.acct.Transport)
		}
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
	req.SetDestination(tlsDestination(r.acct.Transport, r.destHost, r.dest))
	return req, sentAuth, nil
}

// send runs one client transaction to its final response.
func (r *registration) send(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	r.mu.Lock()
	host, dest := r.destHost, r.dest
	r.mu.Unlock()
	if err := r.srv.checkTLSReuse(r.acct.Transport, host, dest); err != nil {
		return nil, err
	}
	tx, err := r.srv.client.TransactionRequest(ctx, req, prebuilt)
	if err != nil {
		return nil, err
	}
	return finalResponse(ctx, tx)
}

// finalResponse waits for a client transaction's final response, and
// ends the transaction.
func finalResponse(ctx context.Context, tx sip.ClientTransaction) (*sip.Response, error) {
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
