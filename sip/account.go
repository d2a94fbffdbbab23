package sip

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sipagent/sipagent/agent"
)

// Account is a registration of sipagent at a registrar (a Twilio SIP
// Domain, a PBX, any RFC 3261 registrar): sipagent keeps Username's
// address-of-record bound to its own Contact, and takes the calls the
// registrar routes to it.
type Account struct {
	Name string
	// Registrar is the Request-URI of REGISTER: the domain, no user part
	// (RFC 3261 s.10.2), e.g. sip:example.sip.twilio.com.
	Registrar sip.Uri
	// Proxy, when set, is where requests are sent instead of the
	// Registrar's host (an outbound proxy or a provider's edge).
	Proxy *sip.Uri
	// Username is the AOR's user part; AuthUsername, when set, is the
	// digest user name if it differs.
	Username     string
	AuthUsername string
	Password     string
	Transport    string        // udp, tcp or tls
	Expires      time.Duration // asked for; the registrar decides (default 600s)
	// KeepAlive is the interval of NAT keepalives towards the registrar:
	// CRLF datagrams on UDP, CRLFCRLF on TCP and TLS (RFC 5626 s.3.5.1). Default
	// 25s; negative disables them.
	KeepAlive time.Duration
	// Agent takes the calls that arrive for this account.
	Agent agent.Agent
}

// AOR returns the account's address-of-record, sip:user@registrar-host.
func (a *Account) AOR() sip.Uri {
	return sip.Uri{Scheme: "sip", User: a.Username, Host: a.Registrar.Host}
}

// RetryTiming bounds the waits between registration attempts. Zero values
// get the defaults noted.
type RetryTiming struct {
	// Min and Max bound the exponential backoff, with jitter, after
	// timeouts, DNS and transport failures and 5xx (default 2s, 5m).
	Min, Max time.Duration
	// AuthMin and AuthMax bound it after the registrar refused the
	// credentials: retrying fast cannot help and may get the account
	// locked (default 1m, 30m).
	AuthMin, AuthMax time.Duration
}

func (t *RetryTiming) applyDefaults() {
	if t.Min == 0 {
		t.Min = 2 * time.Second
	}
	if t.Max == 0 {
		t.Max = 5 * time.Minute
	}
	if t.AuthMin == 0 {
		t.AuthMin = time.Minute
	}
	if t.AuthMax == 0 {
		t.AuthMax = 30 * time.Minute
	}
}

// Registration states, as RegistrationStatus.State.
const (
	RegStarting     = "starting"
	RegRegistered   = "registered"
	RegRetrying     = "retrying"     // a transient failure; trying again after Retry
	RegRefused      = "refused"      // the registrar refused the credentials
	RegUnregistered = "unregistered" // after shutdown
)

// RegistrationStatus is an account's registration state, for logs and
// the operator's status endpoint.
type RegistrationStatus struct {
	Account   string    `json:"account"`
	AOR       string    `json:"aor"`
	Registrar string    `json:"registrar"`
	Transport string    `json:"transport"`
	State     string    `json:"state"`
	Contact   string    `json:"contact,omitempty"`
	Until     time.Time `json:"until,omitzero"`  // registered until
	Retry     time.Time `json:"retry,omitzero"`  // next attempt, when retrying or refused
	LastError string    `json:"error,omitempty"` // why it is not registered
	Failures  int       `json:"failures"`        // consecutive failed attempts
}

// Registrations returns every account's state.
func (s *Server) Registrations() []RegistrationStatus {
	return s.accounts.statuses()
}

// accountSet is the Server's registrations.
type accountSet struct {
	regs []*registration
	wg   sync.WaitGroup

	stopOnce sync.Once
}

func (as *accountSet) statuses() []RegistrationStatus {
	out := make([]RegistrationStatus, 0, len(as.regs))
	for _, r := range as.regs {
		out = append(out, r.status())
	}
	return out
}

// registrarSource returns the account whose registrar or proxy last
// answered from src, or "". Calls the registrar routes to us come from
// there (over UDP, or on the connection we opened over TCP).
func (as *accountSet) registrarSource(src netip.Addr) string {
	for _, r := range as.regs {
		if r.isRegistrarSource(src) {
			return r.acct.Name
		}
	}
	return ""
}

// match returns the account a call is for: its Request-URI user is the
// user of a Contact we registered (the registrar retargeted the call to
// it, RFC 3261 s.10.3), or its To URI is an account's AOR.
func (as *accountSet) match(reqURI sip.Uri, to *sip.ToHeader) *registration {
	for _, r := range as.regs {
		if reqURI.User == r.contactUser {
			return r
		}
	}
	if to != nil {
		for _, r := range as.regs {
			aor := r.acct.AOR()
			if to.Address.User == aor.User && strings.EqualFold(to.Address.Host, aor.Host) {
				return r
			}
		}
	}
	return nil
}

// addAccounts checks the accounts and prepares their registrations.
func (s *Server) addAccounts(accts []Account, timing RetryTiming) error {
	timing.applyDefaults()
	names := map[string]bool{}
	users := map[string]bool{}
	for _, a := range accts {
		switch {
		case a.Name == "":
			return errors.New("sip: an account has no name")
		case names[a.Name]:
			return fmt.Errorf("sip: account %q listed twice", a.Name)
		case a.Registrar.Host == "":
			return fmt.Errorf("sip: account %s: no registrar host", a.Name)
		case a.Username == "":
			return fmt.Errorf("sip: account %s: no username", a.Name)
		case a.Agent == nil:
			return fmt.Errorf("sip: account %s: no agent", a.Name)
		}
		switch a.Transport {
		case "":
			a.Transport = "udp"
		case "udp", "tcp", "tls":
		default:
			return fmt.Errorf("sip: account %s: transport %q is not supported (udp, tcp, tls)", a.Name, a.Transport)
		}
		if a.Expires == 0 {
			a.Expires = 600 * time.Second
		}
		if a.KeepAlive == 0 {
			a.KeepAlive = 25 * time.Second
		}
		names[a.Name] = true
		// The registrar retargets calls to our Contact, so its user part
		// tells the accounts apart (RFC 3261 s.10.3); a user name shared
		// by two accounts gets the account name appended.
		cu := a.Username
		if users[cu] {
			cu += "-" + a.Name
		}
		users[cu] = true
		s.accounts.regs = append(s.accounts.regs, newRegistration(s, a, cu, timing))
	}
	return nil
}

func (as *accountSet) start() {
	for _, r := range as.regs {
		as.wg.Add(1)
		go r.run()
	}
}

// stop ends every registration, unregistering those that are registered,
// and waits for them. It is idempotent.
func (as *accountSet) stop() {
	as.stopOnce.Do(func() {
		for _, r := range as.regs {
			r.stop()
		}
		as.wg.Wait()
	})
}

// RegistrarCount returns how many users have contacts registered with
// sipagent's registrar, and how many contacts they have.
func (s *Server) RegistrarCount() (users, bindings int) {
	if s.registrar == nil {
		return 0, 0
	}
	return s.registrar.count()
}
