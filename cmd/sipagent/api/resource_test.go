package api

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

var testStart = time.Date(2026, 3, 14, 15, 9, 26, 0, time.FixedZone("CET", 3600))

func TestListAndFetch(t *testing.T) {
	calls := newFakeControl()
	older := calls.add(inboundCall("older", true, testStart))
	newer := calls.add(inboundCall("newer", false, testStart.Add(time.Minute)))
	h := newTestAPI(t, calls).Handler()

	page := decode[CallPage](t, do(t, h, http.MethodGet, callsPath+".json", nil), http.StatusOK)
	if len(page.Calls) != 2 || page.Calls[0].Sid != newer.st.Sid || page.Calls[1].Sid != older.st.Sid {
		t.Fatalf("calls %+v, want newest first", page.Calls)
	}
	if page.Page != 0 || page.PageSize != 50 || page.End != 1 || page.URI != callsPath+".json?Page=0&PageSize=50" || page.NextPageURI != nil {
		t.Errorf("page %+v", page)
	}

	page = decode[CallPage](t, do(t, h, http.MethodGet, callsPath+".json?Status=in-progress", nil), http.StatusOK)
	if len(page.Calls) != 1 || page.Calls[0].Sid != older.st.Sid || page.URI != callsPath+".json?Page=0&PageSize=50&Status=in-progress" {
		t.Errorf("in-progress calls: %+v", page)
	}
	page = decode[CallPage](t, do(t, h, http.MethodGet, callsPath+".json?Status=completed", nil), http.StatusOK)
	if page.Calls == nil || len(page.Calls) != 0 {
		t.Errorf("completed calls: %+v, want an empty list", page.Calls)
	}
	wantError(t, do(t, h, http.MethodGet, callsPath+".json?Status=talking", nil), http.StatusBadRequest, codeCallsResource)

	res := decode[CallResource](t, do(t, h, http.MethodGet, callPath(older.st.Sid), nil), http.StatusOK)
	wantStart := "Sat, 14 Mar 2026 14:09:26 +0000"
	want := CallResource{
		Sid: older.st.Sid, AccountSid: testAccount, From: older.st.From, To: older.st.To,
		Status: "in-progress", Direction: "inbound", StartTime: &wantStart, DateCreated: wantStart,
		APIVersion: "2010-04-01", URI: callPath(older.st.Sid),
	}
	if res.StartTime == nil || *res.StartTime != wantStart {
		t.Errorf("start_time %v, want %q", res.StartTime, wantStart)
	}
	res.StartTime = want.StartTime
	if res != want {
		t.Errorf("call\n got %+v\nwant %+v", res, want)
	}

	wantError(t, do(t, h, http.MethodGet, callPath("CAunknown"), nil), http.StatusNotFound, codeNotFound)
	wantError(t, do(t, h, http.MethodGet, callsPath+"/"+older.st.Sid, nil), http.StatusNotFound, codeNotFound)
	wantError(t, do(t, h, http.MethodGet, callsPath+"/.json", nil), http.StatusNotFound, codeNotFound)
}

// The list pages as Twilio's does: PageSize calls from Page, newest
// first, with the next and previous pages' URIs to follow.
func TestListPages(t *testing.T) {
	calls := newFakeControl()
	var sids []string // newest first
	for i := range 5 {
		c := calls.add(inboundCall(fmt.Sprintf("call-%d", i), true, testStart.Add(time.Duration(i)*time.Minute)))
		sids = append([]string{c.st.Sid}, sids...)
	}
	h := newTestAPI(t, calls).Handler()
	var got []string
	uri := callsPath + ".json?PageSize=2&Status=in-progress"
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("the pages never end")
		}
		page := decode[CallPage](t, do(t, h, http.MethodGet, uri, nil), http.StatusOK)
		for _, c := range page.Calls {
			got = append(got, c.Sid)
		}
		if page.Page != pages || page.PageSize != 2 || page.Start != 2*pages || (page.PreviousPageURI != nil) != (pages > 0) {
			t.Errorf("page %d: %+v", pages, page)
		}
		if page.NextPageURI == nil {
			break
		}
		if !strings.Contains(*page.NextPageURI, "Status=in-progress") {
			t.Errorf("next page %q lost the filter", *page.NextPageURI)
		}
		uri = *page.NextPageURI
	}
	if !slices.Equal(got, sids) {
		t.Errorf("calls over the pages %v, want %v", got, sids)
	}
	for _, q := range []string{"PageSize=0", "PageSize=1001", "Page=-1", "PageSize=x"} {
		wantError(t, do(t, h, http.MethodGet, callsPath+".json?"+q, nil), http.StatusBadRequest, codeCallsResource)
	}
	past := decode[CallPage](t, do(t, h, http.MethodGet, callsPath+".json?PageSize=2&Page=9", nil), http.StatusOK)
	if len(past.Calls) != 0 || past.NextPageURI != nil {
		t.Errorf("a page past the end: %+v", past)
	}
}
