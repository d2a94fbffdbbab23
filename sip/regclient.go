package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

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
	destHost    string          // the name dest was resolved from; TLS checks the certificate against it
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
