package api

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
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

// CallPage is the list of calls. The API shows every call on one page.
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
	calls := make([]CallResource, 0)
	for _, c := range a.snapshot() {
		if (status == "" || c.Status == status) && (to == "" || c.To == to) && (from == "" || c.From == from) {
			calls = append(calls, c)
		}
	}
	filter := url.Values{}
	for _, k := range []string{"Status", "To", "From"} {
		if v := q.Get(k); v != "" {
			filter.Set(k, v)
		}
	}
	uri := a.callsURI() + ".json"
	if len(filter) > 0 {
		uri += "?" + filter.Encode()
	}
	writeJSON(w, http.StatusOK, CallPage{
		Calls:        calls,
		PageSize:     len(calls),
		End:          max(len(calls)-1, 0),
		URI:          uri,
		FirstPageURI: uri,
	})
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
