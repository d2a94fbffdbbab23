package sip

import (
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// FuzzRegistrar feeds arbitrary Contact and Expires header values, in a
// REGISTER sipgo has parsed, to a registrar that holds one binding of
// alice's, and checks what must hold for any input: an answer with a
// final status, a refused request changes nothing, a 200 lists exactly
// the bindings held in a form a peer can parse back, and the bounds hold.
func FuzzRegistrar(f *testing.F) {
	seeds := []struct{ contact, expires string }{
		{"<sip:alice@192.0.2.11>", "600"},
		{"<sip:alice@192.0.2.10>", "0"},
		{"<sip:alice@192.0.2.11>;expires=30", ""},
		{"<sip:alice@192.0.2.11>;expires=x", ""},
		{"*", "0"},
		{"*", ""},
		{"*, <sip:alice@192.0.2.11>", "0"},
		{"<sip:alice@192.0.2.11>, <sip:alice@192.0.2.12>;expires=0, sip:alice@192.0.2.13", "99999999999999999999"},
		{`"A" <sips:alice@[2001:db8::1]:5061;transport=tls>;q=0.1;+sip.instance="<urn:uuid:1>"`, "3600"},
		{"<tel:+15551234>", "120"},
		{"<sip:alice@192.0.2.11>\r\nExpires: 5", "60"},
		{"<sip:>", "60"},
		{"<:00>0", ""}, // no scheme: sipgo would print it back as sip:00
		{"A:>", ""},    // sipgo keeps ">" in a non-SIP URI
		{"", ""},
	}
	for _, s := range seeds {
		f.Add(s.contact, s.expires)
	}
	const maxContacts = 3
	f.Fuzz(func(t *testing.T, contact, expires string) {
		clock := newFakeClock()
		r := newRegistrar(RegistrarConfig{MaxContacts: maxContacts, MaxUsers: 2}, clock.now)
		mustRegister(t, r, regReq{cseq: 1, contacts: []string{"<sip:alice@192.0.2.10>"}, expires: "600"}, "alice")
		clock.advance(time.Second)

		raw := "REGISTER sip:example.com SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bK-f\r\n" +
			"From: <sip:alice@example.com>;tag=f1\r\n" +
			"To: <sip:alice@example.com>\r\n" +
			"Call-ID: reg-1\r\n" +
			"CSeq: 2 REGISTER\r\n"
		if contact != "" {
			raw += "Contact: " + contact + "\r\n"
		}
		if expires != "" {
			raw += "Expires: " + expires + "\r\n"
		}
		raw += "Content-Length: 0\r\n\r\n"
		msg, err := sip.ParseMessage([]byte(raw))
		if err != nil {
			return // sipgo refuses it; the registrar never sees it
		}
		req, ok := msg.(*sip.Request)
		if !ok {
			return
		}
		req.SetSource("192.0.2.10:5070")

		before := r.lookup("alice")
		res := r.register(req, "alice")
		if res == nil || res.StatusCode < 200 || res.StatusCode > 699 {
			t.Fatalf("response %v to\n%s", res, raw)
		}
		after := r.lookup("alice")
		if users, n := r.count(); users > 1 || n > maxContacts || n != len(after) {
			t.Fatalf("count = %d users, %d bindings; lookup %d; MaxContacts %d", users, n, len(after), maxContacts)
		}
		if res.StatusCode != 200 {
			if !reflect.DeepEqual(before, after) {
				t.Fatalf("%d changed the bindings\nbefore %+v\nafter  %+v\nrequest\n%s", res.StatusCode, before, after, raw)
			}
			return
		}

		// A peer parses the 200 and finds each binding with its time left.
		back, err := sip.ParseMessage([]byte(res.String()))
		if err != nil {
			t.Fatalf("200 does not parse: %v\n%s", err, res.String())
		}
		listed := back.GetHeaders("Contact")
		if len(listed) != len(after) {
			t.Fatalf("200 lists %d contacts, %d held\n%s", len(listed), len(after), res.String())
		}
		for _, h := range listed {
			c, ok := h.(*sip.ContactHeader)
			if !ok {
				t.Fatalf("Contact parsed as %T", h)
			}
			found := false
			for i := range after {
				found = found || sameBindingURI(&after[i].Contact, &c.Address)
			}
			if !found {
				t.Fatalf("200 lists %q, which is no binding held: %v", c.Address.String(), contactsOf(after))
			}
			v, _ := c.Params.Get("expires")
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || time.Duration(n)*time.Second > r.cfg.MaxExpires {
				t.Fatalf("Contact %q: expires %q out of range", c.Value(), v)
			}
		}
		if len(back.GetHeaders("Date")) != 1 {
			t.Fatalf("200 without Date")
		}
	})
}
