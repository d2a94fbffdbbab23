package sip_test

import (
	"strings"
	"testing"
	"time"

	siplib "github.com/emiago/sipgo/sip"
	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/sip"
)

// These tests register sipagent to a real kamailio that demands digest
// authentication (sip/kamailio_test.go starts it) and check what an
// operator would: the registrar holds our contact, refreshes happen, a
// call to the AOR reaches the account's agent, and shutdown unregisters.

// regServer starts a server with one account registered to k (through
// its UDP or TCP port unless acct.Proxy says otherwise). The
// loopback peer is removed, so that calls from kamailio are admitted
// only as the account's registrar.
func regServer(t *testing.T, k *kamailio, acct sip.Account, opts ...serverOpt) *sip.Server {
	t.Helper()
	acct.Registrar = mustURI(t, "sip:sipagent.test")
	if acct.Proxy == nil {
		proxy := mustURI(t, "sip:"+k.Addr())
		acct.Proxy = &proxy
	}
	if acct.Name == "" {
		acct.Name = "kam"
	}
	if acct.Username == "" {
		acct.Username = "agent"
	}
	if acct.Agent == nil {
		acct.Agent = notCalled(t)
	}
	opts = append([]serverOpt{func(c *sip.Config) {
		c.Peers = nil
		c.Accounts = []sip.Account{acct}
		c.RegisterRetry = sip.RetryTiming{Min: 200 * time.Millisecond, Max: time.Second, AuthMin: time.Minute, AuthMax: time.Minute}
	}}, opts...)
	return startServer(t, nil, opts...)
}

func mustURI(t *testing.T, s string) siplib.Uri {
	t.Helper()
	var u siplib.Uri
	if err := siplib.ParseUri(s, &u); err != nil {
		t.Fatal(err)
	}
	return u
}

// waitState polls the account's status until it reaches state.
func waitState(t *testing.T, srv *sip.Server, state string, d time.Duration) sip.RegistrationStatus {
	t.Helper()
	if !eventually(d, func() bool { return srv.Registrations()[0].State == state }) {
		st := srv.Registrations()[0]
		t.Fatalf("registration state %q after %v, want %q (error %q)", st.State, d, state, st.LastError)
	}
	return srv.Registrations()[0]
}

// waitCount waits until kamailio has logged marker n times.
func waitCount(t *testing.T, k *kamailio, marker string, n int, d time.Duration) {
	t.Helper()
	if got := k.WaitCount(marker, n, d); got < n {
		t.Fatalf("%d %q lines after %v, want %d\n%s", got, marker, d, n, k.Logs())
	}
}

// Twilio answers REGISTER with 407 (realm sip.twilio.com, qop=auth).
// sipagent registers, refreshes reusing the nonce with a growing nc,
// takes a call routed through the registrar with Twilio's headers, and
// unregisters on shutdown.
func TestRegisterLikeTwilio(t *testing.T) {
	k := startKamailio(t, kamailioOpts{Realm: "sip.twilio.com", User: "agent", Password: "s3cret", Proxy407: true, NonceCount: true})
	rec := newRecorder()
	srv := regServer(t, k, sip.Account{Password: "s3cret", Expires: 2 * time.Second, Agent: rec})

	st := waitState(t, srv, sip.RegRegistered, 10*time.Second)
	cs := k.WaitContacts(t, "agent", 1, 5*time.Second)
	udp := srv.Addr("udp")
	if !strings.Contains(cs[0].URI, udp.String()) || cs[0].Transport != "udp" {
		t.Errorf("registrar holds %+v, want our UDP listener %s", cs[0], udp)
	}
	if st.Contact == "" || time.Until(st.Until) <= 0 {
		t.Errorf("status = %+v", st)
	}

	// Refreshes: at 3/4 of 2 s, with credentials up front (nonce reuse,
	// nc 2, 3...), which kamailio with nonce_count accepts without a new
	// challenge.
	waitCount(t, k, "KSAVED", 4, 10*time.Second)
	if n := k.Count("KCHALLENGE"); n != 1 {
		t.Errorf("%d challenges for 4 registrations, want 1 (nonce reuse)\n%s", n, k.Logs())
	}

	out, err := runSipp(t, srv, sippRun{Scenario: "uac_via_registrar.xml", User: "agent", Target: k.Addr()})
	if err != nil {
		t.Fatalf("call through kamailio: %v\n%s\n%s", err, out, k.Logs())
	}
	rec.wait(t)
	info := rec.info
	if info.Account != "kam" || info.Caller != (agent.Caller{Kind: agent.CallerAccount, Name: "kam"}) {
		t.Errorf("account %q caller %+v, want the account and its registrar", info.Account, info.Caller)
	}
	if got := info.Header("X-Twilio-CallSid"); got != "CA0123456789abcdef0123456789abcdef" {
		t.Errorf("X-Twilio-CallSid = %q", got)
	}

	saved := k.Count("KSAVED")
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	waitCount(t, k, "KSAVED", saved+1, 5*time.Second) // the Expires: 0
	if cs := k.Contacts(t, "agent"); len(cs) != 0 {
		t.Errorf("registrar still holds %+v after shutdown", cs)
	}
	if st := srv.Registrations()[0]; st.State != sip.RegUnregistered {
		t.Errorf("state after Close = %q", st.State)
	}
}

// Over TCP, a registrar restart drops the connection; sipagent notices
// and registers again at once on a new one, long before the refresh.
func TestRegisterTCPReconnects(t *testing.T) {
	k := startKamailio(t, kamailioOpts{User: "agent", Password: "pw"})
	srv := regServer(t, k, sip.Account{Password: "pw", Transport: "tcp", Expires: time.Hour, KeepAlive: 200 * time.Millisecond})
	waitState(t, srv, sip.RegRegistered, 10*time.Second)
	cs := k.WaitContacts(t, "agent", 1, 5*time.Second)
	if cs[0].Transport != "tcp" || !strings.Contains(cs[0].URI, "transport=tcp") {
		t.Errorf("contact %+v, want a TCP binding", cs[0])
	}
	if cs[0].Expires < 3000 {
		t.Errorf("granted %d s, asked for 3600", cs[0].Expires)
	}

	k.Restart(t)
	k.WaitContacts(t, "agent", 1, 10*time.Second)
	if st := srv.Registrations()[0]; st.State != sip.RegRegistered {
		t.Errorf("state after the registrar came back = %+v", st)
	}
}

// Over UDP nothing tells sipagent that the registrar restarted and lost
// its table; the next refresh restores the binding.
func TestRegisterUDPAfterRegistrarRestart(t *testing.T) {
	k := startKamailio(t, kamailioOpts{User: "agent", Password: "pw"})
	srv := regServer(t, k, sip.Account{Password: "pw", Expires: 2 * time.Second})
	waitState(t, srv, sip.RegRegistered, 10*time.Second)
	k.WaitContacts(t, "agent", 1, 5*time.Second)
	k.Restart(t)
	k.WaitContacts(t, "agent", 1, 10*time.Second)
}

// A registrar that wants longer registrations answers 423 with
// Min-Expires; sipagent asks again for that (RFC 3261 s.10.2.8).
func TestRegister423IntervalTooBrief(t *testing.T) {
	k := startKamailio(t, kamailioOpts{User: "agent", Password: "pw", MinExpires: 30})
	srv := regServer(t, k, sip.Account{Password: "pw", Expires: 2 * time.Second})
	st := waitState(t, srv, sip.RegRegistered, 10*time.Second)
	cs := k.WaitContacts(t, "agent", 1, 5*time.Second)
	if cs[0].Expires < 25 || time.Until(st.Until) < 25*time.Second {
		t.Errorf("registered for %d s (status until %v), want the registrar's minimum of 30", cs[0].Expires, st.Until)
	}
}

// A nonce that expires between refreshes comes back as stale=true: the
// password was right, so sipagent answers the new challenge at once and
// counts no failure.
func TestRegisterStaleNonce(t *testing.T) {
	k := startKamailio(t, kamailioOpts{User: "agent", Password: "pw", NonceExpire: time.Second})
	srv := regServer(t, k, sip.Account{Password: "pw", Expires: 2 * time.Second})
	waitState(t, srv, sip.RegRegistered, 10*time.Second)
	waitCount(t, k, "KSAVED", 4, 15*time.Second)
	if k.Count("stale") == 0 {
		t.Errorf("kamailio never sent stale=true; the test proves nothing\n%s", k.Logs())
	}
	st := srv.Registrations()[0]
	if st.State != sip.RegRegistered || st.Failures != 0 {
		t.Errorf("status %+v, want registered with no failures", st)
	}
}

// Wrong credentials: a clear error, state "refused", and no flood.
func TestRegisterBadCredentials(t *testing.T) {
	k := startKamailio(t, kamailioOpts{Realm: "sip.twilio.com", User: "agent", Password: "right", Proxy407: true})
	srv := regServer(t, k, sip.Account{Password: "wrong", Expires: 60 * time.Second})
	st := waitState(t, srv, sip.RegRefused, 10*time.Second)
	if !strings.Contains(st.LastError, "credentials refused") || st.Retry.Before(time.Now().Add(20*time.Second)) {
		t.Errorf("status %+v, want a credentials error and a slow retry", st)
	}
	sent := k.Count("KREG")
	if sent != 2 {
		t.Errorf("%d REGISTERs for one attempt, want 2 (unauthenticated, then one answer)", sent)
	}
	// Watching for an absence needs a period; a second is many retry
	// intervals of a tight loop.
	time.Sleep(time.Second)
	if n := k.Count("KREG"); n != sent {
		t.Errorf("%d more REGISTERs within a second of a refusal", n-sent)
	}
	if cs := k.Contacts(t, "agent"); len(cs) != 0 {
		t.Errorf("registrar holds %+v with a wrong password", cs)
	}
}

// Calls from strangers still need credentials when accounts are
// configured: only the registrar's address is trusted.
func TestRegisterTrustsOnlyTheRegistrar(t *testing.T) {
	k := startKamailio(t, kamailioOpts{User: "agent", Password: "pw"})
	srv := regServer(t, k, sip.Account{Password: "pw", Expires: time.Hour})
	waitState(t, srv, sip.RegRegistered, 10*time.Second)
	// 127.0.0.2 is not kamailio (127.0.0.1).
	out, err := runSipp(t, srv, sippRun{Scenario: "uac_nomedia.xml", User: "agent", Local: "127.0.0.2"})
	if err == nil || !strings.Contains(out, "403") {
		t.Errorf("a direct call from a stranger was not refused with 403: %v\n%s", err, out)
	}
}

// Accounts register side by side, each with its own state: one refused
// does not hold back the other.
func TestRegisterTwoAccounts(t *testing.T) {
	k1 := startKamailio(t, kamailioOpts{User: "agent", Password: "one"})
	k2 := startKamailio(t, kamailioOpts{Realm: "sip.twilio.com", User: "agent", Password: "two", Proxy407: true})
	acct := func(name string, k *kamailio, password string) sip.Account {
		proxy := mustURI(t, "sip:"+k.Addr())
		return sip.Account{Name: name, Registrar: mustURI(t, "sip:sipagent.test"), Proxy: &proxy,
			Username: "agent", Password: password, Expires: time.Hour, Agent: notCalled(t)}
	}
	srv := startServer(t, nil, func(c *sip.Config) {
		c.Accounts = []sip.Account{acct("pbx", k1, "one"), acct("twilio", k2, "wrong")}
		c.RegisterRetry = sip.RetryTiming{AuthMin: time.Minute, AuthMax: time.Minute}
	})
	if !eventually(10*time.Second, func() bool {
		st := srv.Registrations()
		return st[0].State == sip.RegRegistered && st[1].State == sip.RegRefused
	}) {
		st := srv.Registrations()
		t.Fatalf("states %q and %q, want registered and refused", st[0].State, st[1].State)
	}
	cs := k1.WaitContacts(t, "agent", 1, 5*time.Second)
	if !strings.HasPrefix(cs[0].URI, "sip:agent@") {
		t.Errorf("first account's contact %q", cs[0].URI)
	}
	if got := k2.Contacts(t, "agent"); len(got) != 0 {
		t.Errorf("refused account holds %+v", got)
	}
	if c := srv.Registrations()[1]; c.AOR != "sip:agent@sipagent.test" || !strings.Contains(c.LastError, "407") {
		t.Errorf("refused account status %+v", c)
	}
}

// The registrar's address is trusted only with calls for the account:
// other users of a shared registrar (another Twilio customer dialling
// sip:sales@sipagent) do not reach other agents through it.
func TestRegistrarTrustedOnlyForTheAccount(t *testing.T) {
	k := startKamailio(t, kamailioOpts{User: "agent", Password: "pw"})
	rec := newRecorder()
	srv := regServer(t, k, sip.Account{Password: "pw", Expires: time.Hour, Agent: rec},
		func(c *sip.Config) { c.Router = sip.Routes{{Name: "any", Agent: notCalled(t)}} })
	waitState(t, srv, sip.RegRegistered, 10*time.Second)
	// Straight from kamailio's address (127.0.0.1), not through it.
	p := dialRaw(t, srv, "udp")
	other := rawReq{Method: "INVITE", User: "sales", Body: rawOffer(freeEvenPortPair(t), "0")}
	if res := p.do(&other); res.StatusCode != 403 {
		t.Errorf("a call for another user from the registrar's address: %d, want 403", res.StatusCode)
	}
	waitIdle(t, srv)
}
