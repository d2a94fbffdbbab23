package api

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/sipagent/sipagent/sip"
)

// CallResource is a call as the API shows it, with Twilio's field names.
type CallResource struct {
	Sid        string `json:"sid"`
	AccountSid string `json:"account_sid"`
	From       string `json:"from"`
	To         string `json:"to"`
	// Status is queued (created, not dialled yet or not ringing),
	// ringing, in-progress, or, in the answer to an update that ends
	// the call, completed or canceled.
	Status string `json:"status"`
	// Direction is inbound, outbound-api or outbound-dial.
	Direction string `json:"direction"`
	// StartTime is when the call began, in RFC 1123 form with a
	// numeric zone as Twilio writes it; null while it is queued.
	StartTime   *string `json:"start_time"`
	DateCreated string  `json:"date_created"`
	APIVersion  string  `json:"api_version"`
	URI         string  `json:"uri"`

	created time.Time // for sorting
}

// CallPage is one page of the list of calls, newest first, as Twilio
// pages it: PageSize calls (default 50, at most 1000) from page Page
// (from 0), with the URIs of the first, next and previous pages. The
// calls are those live at the request: a call that starts or ends
// between two requests moves the later pages by one.
type CallPage struct {
	Calls           []CallResource `json:"calls"`
	Page            int            `json:"page"`
	PageSize        int            `json:"page_size"`
	Start           int            `json:"start"`
	End             int            `json:"end"`
	URI             string         `json:"uri"`
	FirstPageURI    string         `json:"first_page_uri"`
	NextPageURI     *string        `json:"next_page_uri"`
	PreviousPageURI *string        `json:"previous_page_uri"`
}

// twilioTime is Twilio's date format: "Tue, 31 Aug 2010 20:36:28 +0000".
func twilioTime(t time.Time) string { return t.UTC().Format(time.RFC1123Z) }

func (a *API) callsURI() string {
	return "/" + APIVersion + "/Accounts/" + a.cfg.AccountSid + "/Calls"
}

// resource turns the SIP server's view of a call into the API's.
func (a *API) resource(st sip.CallStatus) CallResource {
	start := twilioTime(st.Start)
	return CallResource{
		Sid:         st.Sid,
		AccountSid:  a.cfg.AccountSid,
		From:        st.From,
		To:          st.To,
		Status:      st.Status,
		Direction:   st.Direction,
		StartTime:   &start,
		DateCreated: start,
		APIVersion:  APIVersion,
		URI:         a.callsURI() + "/" + st.Sid + ".json",
		created:     st.Start,
	}
}

// snapshot lists every call the API knows: the SIP server's and those it
// is dialling, newest first as Twilio lists them.
func (a *API) snapshot() []CallResource {
	// The calls being dialled are read first: a call answered meanwhile
	// is in both lists (and shown once, as the server has it), never in
	// neither.
	queued := a.queued()
	live := a.cfg.Calls.Calls()
	out := make([]CallResource, 0, len(live)+len(queued))
	seen := make(map[string]bool, len(live))
	for _, st := range live {
		seen[st.Sid] = true
		out = append(out, a.resource(st))
	}
	for _, r := range queued {
		if !seen[r.Sid] {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(x, y CallResource) int {
		return cmp.Or(y.created.Compare(x.created), cmp.Compare(x.Sid, y.Sid))
	})
	return out
}

// lookup finds one call by SID, in the same order as snapshot.
func (a *API) lookup(sid string) (CallResource, bool) {
	d := a.dialingCall(sid)
	for _, st := range a.cfg.Calls.Calls() {
		if st.Sid == sid {
			return a.resource(st), true
		}
	}
	if d != nil {
		return d.resource(), true
	}
	return CallResource{}, false
}

// statuses are Twilio's call status words, the filter values of a list.
var statuses = []string{"queued", "ringing", "in-progress", "canceled", "completed", "failed", "busy", "no-answer"}

// list serves GET Calls.json, filtered by Status, To and From if given.
func (a *API) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	status, to, from := q.Get("Status"), q.Get("To"), q.Get("From")
	if status != "" && !slices.Contains(statuses, status) {
		writeError(w, badRequest(codeCallsResource, "Status %q: want one of %v", status, statuses))
		return
	}
	size, e := queryInt(q, "PageSize", defaultPageSize, 1, maxPageSize)
	if e != nil {
		writeError(w, e)
		return
	}
	page, e := queryInt(q, "Page", 0, 0, maxPage)
	if e != nil {
		writeError(w, e)
		return
	}
	calls := make([]CallResource, 0)
	for _, c := range a.snapshot() {
		if (status == "" || c.Status == status) && (to == "" || c.To == to) && (from == "" || c.From == from) {
			calls = append(calls, c)
		}
	}
	start := min(page*size, len(calls))
	end := min(start+size, len(calls))
	p := CallPage{
		Calls:        calls[start:end],
		Page:         page,
		PageSize:     size,
		Start:        page * size,
		End:          max(page*size+end-start-1, page*size),
		URI:          a.pageURI(q, size, page),
		FirstPageURI: a.pageURI(q, size, 0),
	}
	if end < len(calls) {
		next := a.pageURI(q, size, page+1)
		p.NextPageURI = &next
	}
	if page > 0 {
		prev := a.pageURI(q, size, page-1)
		p.PreviousPageURI = &prev
	}
	writeJSON(w, http.StatusOK, p)
}

// Paging limits, Twilio's: 50 calls a page unless asked, 1000 at most.
const (
	defaultPageSize = 50
	maxPageSize     = 1000
	maxPage         = 1 << 20 // bounds Page*PageSize
)

// pageURI is the URI of one page of the list, with q's filters.
func (a *API) pageURI(q url.Values, size, page int) string {
	v := url.Values{}
	for _, k := range []string{"Status", "To", "From"} {
		if s := q.Get(k); s != "" {
			v.Set(k, s)
		}
	}
	v.Set("PageSize", strconv.Itoa(size))
	v.Set("Page", strconv.Itoa(page))
	return a.callsURI() + ".json?" + v.Encode()
}

// queryInt reads the whole number q[name] within lo..hi, or def if absent.
func queryInt(q url.Values, name string, def, lo, hi int) (int, *Error) {
	s, ok := q[name]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(s[0])
	if err != nil || n < lo || n > hi {
		return 0, badRequest(codeCallsResource, "%s %q: want a whole number from %d to %d", name, s[0], lo, hi)
	}
	return n, nil
}

// fetch serves GET Calls/{CallSid}.json.
func (a *API) fetch(w http.ResponseWriter, r *http.Request) {
	sid, e := callSid(r)
	if e != nil {
		writeError(w, e)
		return
	}
	res, ok := a.lookup(sid)
	if !ok {
		writeError(w, notFound("call %s not found", sid))
		return
	}
	writeJSON(w, http.StatusOK, res)
}
