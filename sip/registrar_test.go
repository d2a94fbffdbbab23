package sip

import (
	"fmt"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// regReq describes a REGISTER; zero fields get the defaults of alice's
// phone at 192.0.2.10:5070.
type regReq struct {
	to       string   // To user; default alice
	callID   string   // default reg-1
	cseq     uint32   // default 1
	contacts []string // Contact header values, one header each
	expires  string   // Expires header value; none if empty
	source   string   // default 192.0.2.10:5070
}

func (q regReq) build(t testing.TB) *sip.Request {
	t.Helper()
	to := cmpOr(q.to, "alice")
	var b strings.Builder
	fmt.Fprintf(&b, "REGISTER sip:example.com SIP/2.0\r\n")
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bK-%d\r\n", q.cseq)
	fmt.Fprintf(&b, "Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: <sip:%s@example.com>;tag=f1\r\n", to)
	fmt.Fprintf(&b, "To: <sip:%s@example.com>\r\n", to)
	fmt.Fprintf(&b, "Call-ID: %s\r\n", cmpOr(q.callID, "reg-1"))
	fmt.Fprintf(&b, "CSeq: %d REGISTER\r\n", max(q.cseq, 1))
	for _, c := range q.contacts {
		fmt.Fprintf(&b, "Contact: %s\r\n", c)
	}
	if q.expires != "" {
		fmt.Fprintf(&b, "Expires: %s\r\n", q.expires)
	}
	fmt.Fprintf(&b, "User-Agent: phone/1.0\r\n")
	fmt.Fprintf(&b, "Content-Length: 0\r\n\r\n")
	return parseRegister(t, b.String(), cmpOr(q.source, "192.0.2.10:5070"))
}

func parseRegister(t testing.TB, raw, source string) *sip.Request {
	t.Helper()
	msg, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatalf("parse REGISTER: %v\n%s", err, raw)
	}
	req, ok := msg.(*sip.Request)
	if !ok {
		t.Fatalf("parsed %T, want *sip.Request", msg)
	}
	req.SetSource(source)
	req.SetTransport("UDP")
	return req
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// responseContacts serialises res, parses it back as a peer would and
// returns each Contact URI with its expires parameter.
func responseContacts(t testing.TB, res *sip.Response) map[string]int {
	t.Helper()
	msg, err := sip.ParseMessage([]byte(res.String()))
	if err != nil {
		t.Fatalf("parse response: %v\n%s", err, res.String())
	}
	out := map[string]int{}
	for _, h := range msg.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			t.Fatalf("Contact parsed as %T", h)
		}
		v, ok := c.Params.Get("expires")
		if !ok {
			t.Fatalf("Contact %q has no expires", c.Value())
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("Contact %q: expires %q: %v", c.Value(), v, err)
		}
		out[c.Address.String()] = n
	}
	return out
}

func mustRegister(t *testing.T, r *registrar, q regReq, user string) *sip.Response {
	t.Helper()
	res := r.register(q.build(t), user)
	if res.StatusCode != 200 {
		t.Fatalf("register %+v: %d %s, want 200", q, res.StatusCode, res.Reason)
	}
	return res
}

func contactsOf(bs []Binding) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.Contact.String()
	}
	return out
}

func TestRegistrarRegisterThenLookup(t *testing.T) {
	clock := newFakeClock()
	r := newRegistrar(RegistrarConfig{}, clock.now)
	res := mustRegister(t, r, regReq{cseq: 7, contacts: []string{"<sip:alice@192.0.2.10:5070;transport=udp>"}, expires: "600"}, "alice")

	if to := res.To(); to == nil || !to.Params.Has("tag") {
		t.Errorf("200 To = %v, want a tag", res.To())
	}
	bs := r.lookup("alice")
	if len(bs) != 1 {
		t.Fatalf("lookup = %d bindings, want 1", len(bs))
	}
	b := bs[0]
	want := Binding{
		User:      "alice",
		Source:    netip.MustParseAddrPort("192.0.2.10:5070"),
		Transport: "udp",
		Expires:   clock.now().Add(600 * time.Second),
		CallID:    "reg-1",
		CSeq:      7,
		UserAgent: "phone/1.0",
	}
	if got := b.Contact.String(); got != "sip:alice@192.0.2.10:5070;transport=udp" {
		t.Errorf("Contact = %q", got)
	}
	b.Contact = sip.Uri{}
	if !reflect.DeepEqual(b, want) {
		t.Errorf("binding = %+v\nwant      %+v", b, want)
	}
	if users, n := r.count(); users != 1 || n != 1 {
		t.Errorf("count = %d users, %d bindings; want 1, 1", users, n)
	}
	if bs := r.lookup("bob"); len(bs) != 0 {
		t.Errorf("lookup(bob) = %v, want none", bs)
	}
}

// lookup hands out copies: changing one does not change the store.
func TestRegistrarLookupReturnsCopies(t *testing.T) {
	r := newRegistrar(RegistrarConfig{}, newFakeClock().now)
	mustRegister(t, r, regReq{contacts: []string{"<sip:alice@192.0.2.10;transport=tcp>"}}, "alice")
	bs := r.lookup("alice")
	bs[0].Contact.UriParams.Add("transport", "udp")
	bs[0].CallID = "changed"
	again := r.lookup("alice")[0]
	if v, _ := again.Contact.UriParams.Get("transport"); v != "tcp" || again.CallID != "reg-1" {
		t.Errorf("stored binding changed through lookup's result: %+v", again)
	}
}

func TestRegistrarRefreshUpdatesExpires(t *testing.T) {
	clock := newFakeClock()
	r := newRegistrar(RegistrarConfig{}, clock.now)
	contact := []string{"<sip:alice@192.0.2.10:5070>"}
	mustRegister(t, r, regReq{cseq: 1, contacts: contact, expires: "300"}, "alice")
	clock.advance(200 * time.Second)
	res := mustRegister(t, r, regReq{cseq: 2, contacts: contact, expires: "300", source: "198.51.100.1:6000"}, "alice")

	bs := r.lookup("alice")
	if len(bs) != 1 {
		t.Fatalf("lookup = %d bindings, want 1 (refresh must not add)", len(bs))
	}
	if want := clock.now().Add(300 * time.Second); !bs[0].Expires.Equal(want) {
		t.Errorf("Expires = %v, want %v", bs[0].Expires, want)
	}
	if bs[0].CSeq != 2 || bs[0].Source != netip.MustParseAddrPort("198.51.100.1:6000") {
		t.Errorf("refresh kept CSeq %d, Source %v; want 2, 198.51.100.1:6000", bs[0].CSeq, bs[0].Source)
	}
	if got := responseContacts(t, res); got["sip:alice@192.0.2.10:5070"] != 300 {
		t.Errorf("200 contacts = %v, want expires=300", got)
	}
}

func TestRegistrarExpiry(t *testing.T) {
	min, max, def := 60*time.Second, 3600*time.Second, 3600*time.Second
	tests := []struct {
		name    string
		contact string
		expires string
		code    int
		want    time.Duration // stored interval when code is 200; 0: no binding
	}{
		{"header", "<sip:alice@192.0.2.10>", "600", 200, 600 * time.Second},
		{"param overrides header", "<sip:alice@192.0.2.10>;expires=120", "600", 200, 120 * time.Second},
		{"param without header", "<sip:alice@192.0.2.10>;expires=120", "", 200, 120 * time.Second},
		{"param name case-insensitive", "<sip:alice@192.0.2.10>;Expires=120", "", 200, 120 * time.Second},
		{"default", "<sip:alice@192.0.2.10>", "", 200, def},
		{"capped at max", "<sip:alice@192.0.2.10>", "86400", 200, max},
		{"huge capped at max", "<sip:alice@192.0.2.10>", "99999999999999999999999", 200, max},
		{"exactly min", "<sip:alice@192.0.2.10>", "60", 200, min},
		{"zero adds nothing", "<sip:alice@192.0.2.10>", "0", 200, 0},
		{"param zero overrides header", "<sip:alice@192.0.2.10>;expires=0", "600", 200, 0},
		{"too brief", "<sip:alice@192.0.2.10>", "59", 423, 0},
		{"too brief param", "<sip:alice@192.0.2.10>;expires=1", "600", 423, 0},
		{"header not a number", "<sip:alice@192.0.2.10>", "soon", 400, 0},
		{"header negative", "<sip:alice@192.0.2.10>", "-1", 400, 0},
		{"param not a number", "<sip:alice@192.0.2.10>;expires=1h", "", 400, 0},
		{"param empty", "<sip:alice@192.0.2.10>;expires", "", 400, 0},
		{"bad header even when param given", "<sip:alice@192.0.2.10>;expires=120", "x", 400, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			r := newRegistrar(RegistrarConfig{}, clock.now)
			res := r.register(regReq{contacts: []string{tt.contact}, expires: tt.expires}.build(t), "alice")
			if res.StatusCode != tt.code {
				t.Fatalf("status = %d %s, want %d", res.StatusCode, res.Reason, tt.code)
			}
			bs := r.lookup("alice")
			if tt.want == 0 {
				if len(bs) != 0 {
					t.Errorf("lookup = %v, want no binding", contactsOf(bs))
				}
				return
			}
			if len(bs) != 1 {
				t.Fatalf("lookup = %d bindings, want 1", len(bs))
			}
			if got := bs[0].Expires.Sub(clock.now()); got != tt.want {
				t.Errorf("interval = %v, want %v", got, tt.want)
			}
			if got := responseContacts(t, res)["sip:alice@192.0.2.10"]; got != int(tt.want/time.Second) {
				t.Errorf("200 Contact expires = %d, want %d", got, int(tt.want/time.Second))
			}
		})
	}
}

func TestRegistrarIntervalTooBrief(t *testing.T) {
	r := newRegistrar(RegistrarConfig{MinExpires: 90 * time.Second}, newFakeClock().now)
	mustRegister(t, r, regReq{cseq: 1, contacts: []string{"<sip:alice@192.0.2.10>"}, expires: "600"}, "alice")

	// One brief contact fails the whole request: the other contact is
	// not added and the existing one is not removed.
	res := r.register(regReq{cseq: 2, contacts: []string{
		"<sip:alice@192.0.2.10>;expires=0",
		"<sip:alice@192.0.2.11>;expires=600",
		"<sip:alice@192.0.2.12>;expires=30",
	}}.build(t), "alice")
	if res.StatusCode != 423 {
		t.Fatalf("status = %d %s, want 423", res.StatusCode, res.Reason)
	}
	if h := res.GetHeader("Min-Expires"); h == nil || h.Value() != "90" {
		t.Errorf("Min-Expires = %v, want 90", h)
	}
	if got := contactsOf(r.lookup("alice")); len(got) != 1 || got[0] != "sip:alice@192.0.2.10" {
		t.Errorf("bindings after 423 = %v, want only the first registration", got)
	}
}

func TestRegistrarRemove(t *testing.T) {
	a, b := "<sip:alice@192.0.2.10>", "<sip:alice@192.0.2.11>"
	tests := []struct {
		name     string
		req      regReq
		code     int
		wantLeft int
	}{
		{"expires 0 removes one", regReq{cseq: 3, contacts: []string{a}, expires: "0"}, 200, 1},
		{"param 0 removes one", regReq{cseq: 3, contacts: []string{b + ";expires=0"}}, 200, 1},
		{"unknown contact is a no-op", regReq{cseq: 3, contacts: []string{"<sip:alice@192.0.2.99>"}, expires: "0"}, 200, 2},
		{"wildcard removes all", regReq{cseq: 3, contacts: []string{"*"}, expires: "0"}, 200, 0},
		{"wildcard from another Call-ID removes all", regReq{callID: "other", contacts: []string{"*"}, expires: "0"}, 200, 0},
		{"wildcard without Expires", regReq{cseq: 3, contacts: []string{"*"}}, 400, 2},
		{"wildcard with Expires 3600", regReq{cseq: 3, contacts: []string{"*"}, expires: "3600"}, 400, 2},
		{"wildcard with another contact", regReq{cseq: 3, contacts: []string{"*", a}, expires: "0"}, 400, 2},
		{"wildcard with stale CSeq", regReq{cseq: 2, contacts: []string{"*"}, expires: "0"}, 400, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRegistrar(RegistrarConfig{}, newFakeClock().now)
			mustRegister(t, r, regReq{cseq: 1, contacts: []string{a}}, "alice")
			mustRegister(t, r, regReq{cseq: 2, contacts: []string{b}}, "alice")
			res := r.register(tt.req.build(t), "alice")
			if res.StatusCode != tt.code {
				t.Fatalf("status = %d %s, want %d", res.StatusCode, res.Reason, tt.code)
			}
			if got := r.lookup("alice"); len(got) != tt.wantLeft {
				t.Errorf("bindings left = %v, want %d", contactsOf(got), tt.wantLeft)
			}
			if res.StatusCode == 200 {
				if got := responseContacts(t, res); len(got) != tt.wantLeft {
					t.Errorf("200 lists %v, want %d contacts", got, tt.wantLeft)
				}
			}
		})
	}
}

func TestRegistrarCSeqOrder(t *testing.T) {
	contact := []string{"<sip:alice@192.0.2.10>"}
	tests := []struct {
		name   string
		callID string
		cseq   uint32
		code   int
	}{
		{"same Call-ID higher CSeq", "reg-1", 6, 200},
		{"same Call-ID same CSeq", "reg-1", 5, 400},
		{"same Call-ID lower CSeq", "reg-1", 4, 400},
		{"other Call-ID lower CSeq", "reg-2", 1, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			r := newRegistrar(RegistrarConfig{}, clock.now)
			mustRegister(t, r, regReq{cseq: 5, contacts: contact, expires: "600"}, "alice")
			before := r.lookup("alice")[0]
			clock.advance(10 * time.Second)

			for _, expires := range []string{"900", "0"} { // update, then removal
				res := r.register(regReq{callID: tt.callID, cseq: tt.cseq, contacts: contact, expires: expires}.build(t), "alice")
				if res.StatusCode != tt.code {
					t.Fatalf("Expires %s: status = %d %s, want %d", expires, res.StatusCode, res.Reason, tt.code)
				}
				bs := r.lookup("alice")
				if tt.code != 200 {
					if len(bs) != 1 || bs[0].Expires != before.Expires || bs[0].CSeq != before.CSeq || bs[0].CallID != before.CallID {
						t.Errorf("Expires %s: bindings %+v changed by a refused REGISTER, want %+v", expires, bs, before)
					}
					continue
				}
				switch expires {
				case "900":
					if len(bs) != 1 || bs[0].CallID != tt.callID || bs[0].CSeq != tt.cseq || !bs[0].Expires.Equal(clock.now().Add(900*time.Second)) {
						t.Errorf("after update: %+v, want Call-ID %s CSeq %d expiring in 900s", bs, tt.callID, tt.cseq)
					}
					tt.cseq++ // the removal comes next in the same sequence
				case "0":
					if len(bs) != 0 {
						t.Errorf("after removal: %v, want none", contactsOf(bs))
					}
				}
			}
		})
	}
}

func TestRegistrarBindingsExpire(t *testing.T) {
	clock := newFakeClock()
	r := newRegistrar(RegistrarConfig{}, clock.now)
	mustRegister(t, r, regReq{callID: "a", contacts: []string{"<sip:alice@192.0.2.10>"}, expires: "120"}, "alice")
	mustRegister(t, r, regReq{callID: "b", contacts: []string{"<sip:alice@192.0.2.11>"}, expires: "600"}, "alice")

	clock.advance(100*time.Second + 500*time.Millisecond)
	res := mustRegister(t, r, regReq{callID: "c"}, "alice") // a query
	want := map[string]int{"sip:alice@192.0.2.10": 20, "sip:alice@192.0.2.11": 500}
	if got := responseContacts(t, res); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("query lists %v, want %v (seconds left, rounded up)", got, want)
	}

	clock.advance(20 * time.Second) // the first binding's Expires exactly
	if got := contactsOf(r.lookup("alice")); len(got) != 1 || got[0] != "sip:alice@192.0.2.11" {
		t.Errorf("lookup at first expiry = %v, want only the second", got)
	}
	clock.advance(480 * time.Second)
	if got := r.lookup("alice"); len(got) != 0 {
		t.Errorf("lookup after all expired = %v, want none", contactsOf(got))
	}
	if users, n := r.count(); users != 0 || n != 0 {
		t.Errorf("count = %d, %d; want 0, 0", users, n)
	}
}

func TestRegistrarToUser(t *testing.T) {
	tests := []struct {
		name, to, user string
		code           int
	}{
		{"own AOR", "alice", "alice", 200},
		{"other user's AOR", "bob", "alice", 403},
		{"user part is case-sensitive", "Alice", "alice", 403},
		{"escaped equals unescaped", "%61lice", "alice", 200},
		{"no authenticated user", "alice", "", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRegistrar(RegistrarConfig{}, newFakeClock().now)
			res := r.register(regReq{to: tt.to, contacts: []string{"<sip:x@192.0.2.10>"}}.build(t), tt.user)
			if res.StatusCode != tt.code {
				t.Fatalf("status = %d %s, want %d", res.StatusCode, res.Reason, tt.code)
			}
			if _, n := r.count(); (n == 1) != (tt.code == 200) {
				t.Errorf("%d bindings after %d", n, tt.code)
			}
		})
	}
}

func TestRegistrarMaxContacts(t *testing.T) {
	r := newRegistrar(RegistrarConfig{MaxContacts: 2}, newFakeClock().now)
	c := func(i int) string { return fmt.Sprintf("<sip:alice@192.0.2.%d>", i) }
	mustRegister(t, r, regReq{cseq: 1, contacts: []string{c(1), c(2)}}, "alice")

	res := r.register(regReq{cseq: 2, contacts: []string{c(3)}}.build(t), "alice")
	if res.StatusCode != 403 {
		t.Fatalf("third contact: %d %s, want 403", res.StatusCode, res.Reason)
	}
	if got := r.lookup("alice"); len(got) != 2 {
		t.Errorf("bindings after 403 = %v, want the two", contactsOf(got))
	}
	// Refreshing what is held, and swapping one contact for another in
	// one request, stay within the bound.
	mustRegister(t, r, regReq{cseq: 3, contacts: []string{c(1), c(2)}}, "alice")
	mustRegister(t, r, regReq{cseq: 4, contacts: []string{c(1) + ";expires=0", c(3)}}, "alice")
	if got := contactsOf(r.lookup("alice")); len(got) != 2 || got[0] != "sip:alice@192.0.2.3" {
		t.Errorf("after swap = %v, want 192.0.2.3 first, then 192.0.2.2", got)
	}
	// A request with more contacts than could ever be valid is refused
	// before any work on them.
	many := make([]string, 5)
	for i := range many {
		many[i] = c(10+i) + ";expires=0"
	}
	if res := r.register(regReq{cseq: 5, contacts: many}.build(t), "alice"); res.StatusCode != 403 {
		t.Errorf("5 contacts with MaxContacts 2: %d %s, want 403", res.StatusCode, res.Reason)
	}
}

func TestRegistrarMaxUsers(t *testing.T) {
	clock := newFakeClock()
	r := newRegistrar(RegistrarConfig{MaxUsers: 2}, clock.now)
	reg := func(user, expires string, cseq uint32) *sip.Response {
		return r.register(regReq{to: user, cseq: cseq, contacts: []string{"<sip:" + user + "@192.0.2.10>"}, expires: expires}.build(t), user)
	}
	if res := reg("alice", "120", 1); res.StatusCode != 200 {
		t.Fatalf("alice: %d", res.StatusCode)
	}
	if res := reg("bob", "600", 1); res.StatusCode != 200 {
		t.Fatalf("bob: %d", res.StatusCode)
	}
	res := reg("carol", "600", 1)
	if res.StatusCode != 503 {
		t.Fatalf("third user: %d %s, want 503", res.StatusCode, res.Reason)
	}
	if h := res.GetHeader("Retry-After"); h == nil || h.Value() == "" {
		t.Errorf("503 without Retry-After")
	}
	if got := r.lookup("carol"); len(got) != 0 {
		t.Errorf("carol registered despite 503: %v", contactsOf(got))
	}
	// Users already held keep refreshing.
	if res := reg("bob", "600", 2); res.StatusCode != 200 {
		t.Errorf("bob's refresh at capacity: %d, want 200", res.StatusCode)
	}
	// alice expires without anyone looking her up; the sweep finds the room.
	clock.advance(121 * time.Second)
	if res := reg("carol", "600", 2); res.StatusCode != 200 {
		t.Errorf("carol after alice expired: %d %s, want 200", res.StatusCode, res.Reason)
	}
	if users, n := r.count(); users != 2 || n != 2 {
		t.Errorf("count = %d, %d; want 2, 2", users, n)
	}
}

// The sweep keeps the map bounded by live users even when expired users
// are never looked up again.
func TestRegistrarSweepsExpiredUsers(t *testing.T) {
	clock := newFakeClock()
	r := newRegistrar(RegistrarConfig{}, clock.now)
	for i := range 1000 {
		user := fmt.Sprintf("u%d", i)
		mustRegister(t, r, regReq{to: user, contacts: []string{"<sip:" + user + "@192.0.2.10>"}, expires: "60"}, user)
		clock.advance(time.Second)
	}
	r.mu.Lock()
	held := len(r.aors)
	r.mu.Unlock()
	// At most 60 are live at any time; the map may hold up to twice the
	// live users of the last sweep, plus the minimum.
	if held > 2*60+minSweepAt {
		t.Errorf("map holds %d users with 60 live, want it swept", held)
	}
}

func TestRegistrarOKListsAllBindings(t *testing.T) {
	clock := newFakeClock()
	r := newRegistrar(RegistrarConfig{}, clock.now)
	mustRegister(t, r, regReq{callID: "desk", contacts: []string{"<sip:alice@192.0.2.10:5070;transport=tcp>"}, expires: "600"}, "alice")
	clock.advance(100 * time.Second)
	res := mustRegister(t, r, regReq{callID: "mobile", contacts: []string{`"Alice" <sip:alice@[2001:db8::1]:5080>;q=0.5`}, expires: "300"}, "alice")

	want := map[string]int{"sip:alice@192.0.2.10:5070;transport=tcp": 500, "sip:alice@[2001:db8::1]:5080": 300}
	if got := responseContacts(t, res); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("200 lists %v, want %v", got, want)
	}
	if n := len(res.GetHeaders("Contact")); n != 2 {
		t.Errorf("%d Contact headers, want one per binding", n)
	}
	date := res.GetHeader("Date")
	if date == nil {
		t.Fatal("200 has no Date (RFC 3261 s.10.3 step 8)")
	}
	if d, err := time.Parse(time.RFC1123, date.Value()); err != nil || !d.Equal(clock.now()) || !strings.HasSuffix(date.Value(), " GMT") {
		t.Errorf("Date = %q (%v), want %v in GMT", date.Value(), err, clock.now())
	}
	// Most recently refreshed first.
	if got := contactsOf(r.lookup("alice")); got[0] != "sip:alice@[2001:db8::1]:5080" {
		t.Errorf("lookup order = %v, want the mobile first", got)
	}
	// A query from another Call-ID lists the same and changes nothing.
	q := mustRegister(t, r, regReq{callID: "query"}, "alice")
	if got := responseContacts(t, q); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("query lists %v, want %v", got, want)
	}
}

// Contacts sipgo parses in other shapes: comma-separated in one header,
// compact form, and a Contact added as a generic header.
func TestRegistrarContactForms(t *testing.T) {
	raw := "REGISTER sip:example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/TCP 192.0.2.10:5070;branch=z9hG4bK-x\r\n" +
		"From: <sip:alice@example.com>;tag=f1\r\n" +
		"To: <sip:alice@example.com>\r\n" +
		"Call-ID: forms\r\n" +
		"CSeq: 1 REGISTER\r\n" +
		"Contact: <sip:alice@192.0.2.10>;expires=120, <sip:alice@192.0.2.11>\r\n" +
		"m: sip:alice@192.0.2.12;expires=300\r\n" +
		"Content-Length: 0\r\n\r\n"
	req := parseRegister(t, raw, "192.0.2.10:5070")
	req.AppendHeader(sip.NewHeader("Contact", "<sip:alice@192.0.2.13>;expires=400"))
	r := newRegistrar(RegistrarConfig{}, newFakeClock().now)
	res := r.register(req, "alice")
	if res.StatusCode != 200 {
		t.Fatalf("status %d %s", res.StatusCode, res.Reason)
	}
	want := map[string]int{
		"sip:alice@192.0.2.10": 120, "sip:alice@192.0.2.11": 3600,
		"sip:alice@192.0.2.12": 300, "sip:alice@192.0.2.13": 400,
	}
	if got := responseContacts(t, res); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("200 lists %v, want %v", got, want)
	}
	if bs := r.lookup("alice"); len(bs) != 4 || bs[0].Transport != "udp" {
		// SetTransport in parseRegister wins over the Via, as sipgo's
		// transports set it from the connection.
		t.Errorf("lookup = %+v", bs)
	}
}

func TestRegistrarSameBindingURI(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"sip:alice@192.0.2.10", "sip:alice@192.0.2.10", true},
		{"sip:alice@Example.COM", "SIP:alice@example.com", true},
		{"sip:alice@example.com;lr;foo=bar", "sip:alice@example.com", true},
		{"sip:alice@example.com;transport=TCP", "sip:alice@example.com;transport=tcp", true},
		{"sip:%61lice@example.com", "sip:alice@example.com", true},
		{"sip:alice@[2001:db8::1]", "sip:alice@[2001:DB8:0::1]", true},
		{"sip:Alice@example.com", "sip:alice@example.com", false},
		{"sip:alice@example.com", "sip:alice@example.com:5060", false},
		{"sip:alice@example.com:5060", "sip:alice@example.com:5070", false},
		{"sip:alice@example.com;transport=tcp", "sip:alice@example.com", false},
		{"sip:alice@example.com;transport=tcp", "sip:alice@example.com;transport=udp", false},
		{"sip:alice@example.com", "sips:alice@example.com", false},
		{"tel:+15551234", "tel:+15551234", true},
		{"tel:+15551234", "tel:+15551235", false},
	}
	for _, tt := range tests {
		var a, b sip.Uri
		if err := sip.ParseUri(tt.a, &a); err != nil {
			t.Fatalf("%s: %v", tt.a, err)
		}
		if err := sip.ParseUri(tt.b, &b); err != nil {
			t.Fatalf("%s: %v", tt.b, err)
		}
		if got := sameBindingURI(&a, &b); got != tt.same {
			t.Errorf("sameBindingURI(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.same)
		}
	}
}

func TestRegistrarConfigDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   RegistrarConfig
		want RegistrarConfig
	}{
		{"zero", RegistrarConfig{}, RegistrarConfig{MinExpires: 60 * time.Second, MaxExpires: time.Hour, DefaultExpires: time.Hour, MaxContacts: 10, MaxUsers: 10000}},
		{"default capped to max", RegistrarConfig{MaxExpires: 600 * time.Second}, RegistrarConfig{MinExpires: 60 * time.Second, MaxExpires: 600 * time.Second, DefaultExpires: 600 * time.Second, MaxContacts: 10, MaxUsers: 10000}},
		{"max below min", RegistrarConfig{MinExpires: 300 * time.Second, MaxExpires: 120 * time.Second, DefaultExpires: 60 * time.Second}, RegistrarConfig{MinExpires: 300 * time.Second, MaxExpires: 300 * time.Second, DefaultExpires: 300 * time.Second, MaxContacts: 10, MaxUsers: 10000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := newRegistrar(tt.in, time.Now).cfg; got != tt.want {
				t.Errorf("config = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRegistrarMissingHeaders(t *testing.T) {
	raw := "REGISTER sip:example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bK-x\r\n" +
		"From: <sip:alice@example.com>;tag=f1\r\n" +
		"To: <sip:alice@example.com>\r\n" +
		"CSeq: 1 REGISTER\r\n" +
		"Contact: <sip:alice@192.0.2.10>\r\n" +
		"Content-Length: 0\r\n\r\n"
	r := newRegistrar(RegistrarConfig{}, newFakeClock().now)
	if res := r.register(parseRegister(t, raw, "192.0.2.10:5070"), "alice"); res.StatusCode != 400 {
		t.Errorf("REGISTER without Call-ID: %d, want 400", res.StatusCode)
	}
}

func TestRegistrarConcurrentUse(t *testing.T) {
	r := newRegistrar(RegistrarConfig{}, newFakeClock().now)
	var wg sync.WaitGroup
	for i := range 8 {
		user := fmt.Sprintf("u%d", i)
		reqs := make([]*sip.Request, 50) // built here: no t.Fatal off the test goroutine
		for j := range reqs {
			reqs[j] = regReq{to: user, cseq: uint32(j + 1), contacts: []string{"<sip:" + user + "@192.0.2.10>"}}.build(t)
		}
		wg.Go(func() {
			for j, req := range reqs {
				cseq := j + 1
				res := r.register(req, user)
				if res.StatusCode != 200 {
					t.Errorf("%s CSeq %d: %d", user, cseq, res.StatusCode)
					return
				}
				r.lookup(user)
				r.count()
			}
		})
	}
	wg.Wait()
	if users, n := r.count(); users != 8 || n != 8 {
		t.Errorf("count = %d, %d; want 8, 8", users, n)
	}
}

// Contacts sipgo parses but the registrar could not list back in a 200.
func TestRegistrarInvalidContact(t *testing.T) {
	for _, contact := range []string{
		"<:00>",   // no scheme; sipgo would print sip:00
		"a:>",     // sipgo keeps ">" in the rest of a non-SIP URI
		"<sip:@>", // no host
		"<tel:>",  // nothing after the scheme
	} {
		t.Run(contact, func(t *testing.T) {
			r := newRegistrar(RegistrarConfig{}, newFakeClock().now)
			res := r.register(regReq{contacts: []string{contact}}.build(t), "alice")
			if res.StatusCode != 400 {
				t.Errorf("status = %d %s, want 400", res.StatusCode, res.Reason)
			}
			if _, n := r.count(); n != 0 {
				t.Errorf("%d bindings stored", n)
			}
		})
	}
}
