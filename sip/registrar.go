package sip

import (
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// The binding store of sipagent's built-in registrar (RFC 3261 s.10.3).
// Authentication is the caller's: register is handed a REGISTER whose
// digest user has been checked, and that user's name.

// RegistrarConfig bounds the expiry of registrations. Zero values get defaults.
type RegistrarConfig struct {
	MinExpires     time.Duration // default 60s; shorter non-zero requests get 423 with Min-Expires
	MaxExpires     time.Duration // default 3600s; longer requests are cut to this
	DefaultExpires time.Duration // default 3600s (capped to MaxExpires) when neither Contact expires nor Expires header is given
	MaxContacts    int           // per AOR, default 10; more gets 403 Too Many Contacts
	MaxUsers       int           // bound on AORs held, default 10000; a new AOR beyond it gets 503 with Retry-After
}

const (
	defaultMinExpires     = 60 * time.Second
	defaultMaxExpires     = 3600 * time.Second
	defaultDefaultExpires = 3600 * time.Second
	defaultMaxContacts    = 10
	defaultMaxUsers       = 10000

	// maxDeltaSeconds is the largest Expires value RFC 3261 s.20.19
	// allows; larger values are read as it, then cut to MaxExpires.
	maxDeltaSeconds = 1<<32 - 1

	// registrarRetryAfter is the Retry-After of a 503 from a full
	// registrar: room appears only as bindings expire, so an immediate
	// retry is pointless (RFC 3261 s.20.33).
	registrarRetryAfter = "60"

	// minSweepAt is the smallest map size that triggers a sweep.
	minSweepAt = 64

	// sipDate is SIP-date, which is rfc1123-date in GMT (RFC 3261 s.20.17).
	sipDate = "Mon, 02 Jan 2006 15:04:05 GMT"
)

// Why a REGISTER failed; for logs, never sent.
var (
	errNotOwnAOR       = errors.New("sip: REGISTER for another user's address of record")
	errBadRegister     = errors.New("sip: malformed REGISTER")
	errBadExpires      = errors.New("sip: expires is not delta-seconds")
	errBadWildcard     = errors.New("sip: Contact * must be alone with Expires: 0")
	errIntervalTooLow  = errors.New("sip: registration interval below Min-Expires")
	errStaleCSeq       = errors.New("sip: CSeq not above the binding's for the same Call-ID")
	errTooManyContacts = errors.New("sip: too many contacts for the address of record")
	errRegistrarFull   = errors.New("sip: registrar holds its maximum of users")
)

// withDefaults fills zero (or negative) fields with defaults and makes the
// bounds consistent: a MaxExpires below MinExpires would leave no valid
// interval, so the minimum wins; DefaultExpires is kept within both.
func (c RegistrarConfig) withDefaults() RegistrarConfig {
	if c.MinExpires <= 0 {
		c.MinExpires = defaultMinExpires
	}
	if c.MaxExpires <= 0 {
		c.MaxExpires = defaultMaxExpires
	}
	c.MaxExpires = max(c.MaxExpires, c.MinExpires)
	if c.DefaultExpires <= 0 {
		c.DefaultExpires = defaultDefaultExpires
	}
	c.DefaultExpires = min(max(c.DefaultExpires, c.MinExpires), c.MaxExpires)
	if c.MaxContacts <= 0 {
		c.MaxContacts = defaultMaxContacts
	}
	if c.MaxUsers <= 0 {
		c.MaxUsers = defaultMaxUsers
	}
	return c
}

// Binding is one registered contact of a user.
type Binding struct {
	User      string         // the AOR user part == authenticated username
	Contact   sip.Uri        // as registered (github.com/emiago/sipgo/sip)
	Source    netip.AddrPort // where the REGISTER came from; requests to the user go here when the contact is behind NAT
	Transport string         // lower case: udp, tcp
	Expires   time.Time
	CallID    string
	CSeq      uint32
	UserAgent string
}

func (b Binding) clone() Binding {
	b.Contact = *b.Contact.Clone()
	return b
}

// registrar holds the bindings of each address of record, keyed by user.
// It is safe for concurrent use.
type registrar struct {
	cfg RegistrarConfig
	now func() time.Time

	mu sync.Mutex
	// aors holds each user's bindings, most recently refreshed first; a
	// user with no bindings has no entry. Expired bindings stay until the
	// user is next looked at or a sweep passes.
	aors      map[string][]Binding
	sweepAt   int       // len(aors) at which adding an AOR sweeps first
	lastSweep time.Time // when the last sweep ran
}

func newRegistrar(cfg RegistrarConfig, now func() time.Time) *registrar {
	return &registrar{
		cfg:     cfg.withDefaults(),
		now:     now,
		aors:    make(map[string][]Binding),
		sweepAt: minSweepAt,
	}
}

// contactUpdate is one Contact of a REGISTER with its expiry resolved.
type contactUpdate struct {
	uri     sip.Uri
	expires time.Duration // 0 removes the binding
}

// registerRequest is a REGISTER checked against everything that does not
// depend on the stored bindings (RFC 3261 s.10.3 steps 5 and 6).
type registerRequest struct {
	callID    string
	cseq      uint32
	query     bool // no Contact: list the bindings, change nothing
	wildcard  bool // Contact: * with Expires: 0: remove every binding
	updates   []contactUpdate
	source    netip.AddrPort
	transport string
	userAgent string
}

// register applies an already authenticated REGISTER from user and
// returns the response to send. The request is applied atomically: every
// contact is checked before any binding changes (RFC 3261 s.10.3).
func (r *registrar) register(req *sip.Request, user string) *sip.Response {
	rr, serr := r.parseRegister(req, user)
	if serr == nil {
		var current []Binding
		var now time.Time
		current, now, serr = r.apply(rr, user)
		if serr == nil {
			return r.ok(req, current, now)
		}
	}
	return newResponse(req, serr.Code, serr.Reason, nil, serr.Headers...)
}

// parseRegister checks req and resolves each contact's expiry.
func (r *registrar) parseRegister(req *sip.Request, user string) (*registerRequest, *StatusError) {
	to := req.To()
	if to == nil || req.CallID() == nil || req.CSeq() == nil {
		return nil, statusErr(400, "Missing Mandatory Header", errBadRegister)
	}
	// s.10.3 step 3: the registrar decides who may change an AOR's
	// bindings and answers anyone else 403. Here a user changes only its
	// own: no third-party registrations.
	if user == "" || !sameUser(to.Address.User, user) {
		return nil, statusErr(403, "Forbidden", errNotOwnAOR)
	}
	rr := &registerRequest{
		callID:    req.CallID().Value(),
		cseq:      req.CSeq().SeqNo,
		transport: strings.ToLower(req.Transport()),
	}
	// A source that is not an IP address and port (a Via with a host
	// name, when no transport set one) is left unset. An IPv4 peer seen
	// on a dual-stack socket is stored as IPv4.
	if src, err := netip.ParseAddrPort(req.Source()); err == nil {
		rr.source = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	}
	if h := req.GetHeader("User-Agent"); h != nil {
		rr.userAgent = h.Value()
	}

	headerExpires, hasHeaderExpires, serr := registerExpires(req)
	if serr != nil {
		return nil, serr
	}
	contacts, err := registerContacts(req)
	if err != nil {
		return nil, statusErr(400, "Invalid Contact", err)
	}
	if len(contacts) == 0 {
		rr.query = true // s.10.3 step 6 finds nothing to do; step 8 lists
		return rr, nil
	}
	// Bound the work of one request. A valid request removes at most the
	// MaxContacts bindings held and adds at most MaxContacts, so more
	// than twice that cannot be valid.
	if len(contacts) > 2*r.cfg.MaxContacts {
		return nil, statusErr(403, "Too Many Contacts", errTooManyContacts)
	}

	// s.10.3 step 6: "*" is valid only alone and with Expires: 0.
	for _, c := range contacts {
		if !c.Address.Wildcard {
			continue
		}
		if len(contacts) != 1 || !hasHeaderExpires || headerExpires != 0 {
			return nil, statusErr(400, "Invalid Wildcard", errBadWildcard)
		}
		rr.wildcard = true
		return rr, nil
	}

	briefs := false
	for _, c := range contacts {
		if !validContactURI(&c.Address) {
			return nil, statusErr(400, "Invalid Contact", errBadRegister)
		}
		// s.10.2.1.1: the contact's expires parameter, else the Expires
		// header, else the registrar's default.
		e := r.cfg.DefaultExpires
		if v, ok := contactExpires(c); ok {
			if e, ok = parseDeltaSeconds(v); !ok {
				return nil, statusErr(400, "Invalid Expires", errBadExpires)
			}
		} else if hasHeaderExpires {
			e = headerExpires
		}
		switch {
		case e == 0:
		case e < r.cfg.MinExpires:
			// Go on checking: a malformed contact later in the request
			// is a 400, whatever the intervals.
			briefs = true
		case e > r.cfg.MaxExpires:
			// s.10.3 step 6: the registrar MAY shorten the interval.
			e = r.cfg.MaxExpires
		}
		u := contactUpdate{uri: *c.Address.Clone(), expires: e}
		// The same contact twice in one request: the later one wins.
		if i := slices.IndexFunc(rr.updates, func(o contactUpdate) bool { return sameBindingURI(&o.uri, &u.uri) }); i >= 0 {
			rr.updates[i] = u
		} else {
			rr.updates = append(rr.updates, u)
		}
	}
	if briefs {
		// s.10.3 step 6 and s.20.23: 423 carries the shortest interval
		// the registrar accepts; nothing is changed.
		return nil, statusErr(423, "Interval Too Brief", errIntervalTooLow,
			sip.NewHeader("Min-Expires", strconv.FormatInt(ceilSeconds(r.cfg.MinExpires), 10)))
	}
	return rr, nil
}

// apply changes user's bindings as rr asks, or not at all, and returns the
// bindings the user has afterwards.
func (r *registrar) apply(rr *registerRequest, user string) ([]Binding, time.Time, *StatusError) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	current := r.live(user, now)
	if rr.query {
		return slices.Clone(current), now, nil
	}

	// s.10.3 step 7: an update of a binding made under the same Call-ID
	// must carry a higher CSeq, else "the update MUST be aborted and the
	// request fails". RFC 3261 names no status; 400 says the request
	// itself is at fault (stale or reordered) and that repeating it
	// unchanged cannot succeed, where a 5xx would invite a retry. Kamailio
	// answers 400 "Invalid CSeq number" too.
	stale := func(b *Binding) bool { return b.CallID == rr.callID && rr.cseq <= b.CSeq }
	next := make([]Binding, 0, len(current)+len(rr.updates))
	if rr.wildcard {
		for i := range current {
			if stale(&current[i]) {
				return nil, now, statusErr(400, "Invalid CSeq", errStaleCSeq)
			}
		}
	} else {
		touched := make([]bool, len(current))
		for _, u := range rr.updates {
			if i := slices.IndexFunc(current, func(b Binding) bool { return sameBindingURI(&b.Contact, &u.uri) }); i >= 0 {
				if stale(&current[i]) {
					return nil, now, statusErr(400, "Invalid CSeq", errStaleCSeq)
				}
				touched[i] = true
			}
			if u.expires == 0 {
				continue // removed, or never there
			}
			next = append(next, Binding{
				User:      user,
				Contact:   u.uri,
				Source:    rr.source,
				Transport: rr.transport,
				Expires:   now.Add(u.expires),
				CallID:    rr.callID,
				CSeq:      rr.cseq,
				UserAgent: rr.userAgent,
			})
		}
		for i, b := range current {
			if !touched[i] {
				next = append(next, b)
			}
		}
	}

	// No registrar has to hold every contact a user offers, and a user
	// with MaxContacts live bindings is misconfigured or misbehaving, not
	// short of capacity: 403 (s.21.4.4, do not repeat) rather than
	// Kamailio's 503, which invites a retry or a failover.
	if len(next) > r.cfg.MaxContacts {
		return nil, now, statusErr(403, "Too Many Contacts", errTooManyContacts)
	}
	if len(next) == 0 {
		delete(r.aors, user)
		return nil, now, nil
	}
	// A new AOR takes room that is bounded; when there is none the
	// registrar is out of capacity, which is what 503 with Retry-After
	// says (s.21.5.4).
	if len(current) == 0 && !r.makeRoom(now) {
		return nil, now, statusErr(503, "Service Unavailable", errRegistrarFull,
			sip.NewHeader("Retry-After", registrarRetryAfter))
	}
	r.aors[user] = next
	return slices.Clone(next), now, nil
}

// ok builds the 200 that lists every current binding, each with the
// seconds it has left, and the registrar's time (s.10.3 step 8).
func (r *registrar) ok(req *sip.Request, bindings []Binding, now time.Time) *sip.Response {
	hdrs := make([]sip.Header, 0, len(bindings)+1)
	for _, b := range bindings {
		h := &sip.ContactHeader{Address: *b.Contact.Clone(), Params: sip.NewParams()}
		h.Params.Add("expires", strconv.FormatInt(ceilSeconds(b.Expires.Sub(now)), 10))
		hdrs = append(hdrs, h)
	}
	hdrs = append(hdrs, sip.NewHeader("Date", now.UTC().Format(sipDate)))
	return newResponse(req, 200, "OK", nil, hdrs...)
}

// lookup returns the user's unexpired bindings, most recently refreshed first.
func (r *registrar) lookup(user string) []Binding {
	r.mu.Lock()
	defer r.mu.Unlock()
	current := r.live(user, r.now())
	if len(current) == 0 {
		return nil
	}
	out := make([]Binding, len(current))
	for i, b := range current {
		out[i] = b.clone() // the caller may change the URI's parameters
	}
	return out
}

// count returns the number of AORs with at least one unexpired binding and the number of bindings.
func (r *registrar) count() (users, bindings int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	for _, bs := range r.aors {
		n := 0
		for i := range bs {
			if !bindingExpired(&bs[i], now) {
				n++
			}
		}
		if n > 0 {
			users++
			bindings += n
		}
	}
	return users, bindings
}

// live drops user's expired bindings and returns the rest. r.mu is held.
func (r *registrar) live(user string, now time.Time) []Binding {
	bs, ok := r.aors[user]
	if !ok {
		return nil
	}
	bs = slices.DeleteFunc(bs, func(b Binding) bool { return bindingExpired(&b, now) })
	if len(bs) == 0 {
		delete(r.aors, user)
		return nil
	}
	r.aors[user] = bs
	return bs
}

// makeRoom reports whether a new AOR may be added. Expired AORs nobody
// looks up again are swept when the map has doubled since the last sweep,
// which costs a constant amortised per added AOR, and when the map is
// full, at most once a second, so a full registrar does not rescan the
// map for every new user it refuses. r.mu is held.
func (r *registrar) makeRoom(now time.Time) bool {
	n := len(r.aors)
	if n >= r.sweepAt || (n >= r.cfg.MaxUsers && now.Sub(r.lastSweep) >= time.Second) {
		for user := range r.aors {
			r.live(user, now)
		}
		r.lastSweep = now
		r.sweepAt = max(2*len(r.aors), minSweepAt)
	}
	return len(r.aors) < r.cfg.MaxUsers
}

func bindingExpired(b *Binding, now time.Time) bool { return !now.Before(b.Expires) }
