package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/twiml"
	"github.com/sipagent/sipagent/sip"
	"github.com/sipagent/sipagent/transfer"
)

// APIVersion is the version in the paths and in every resource.
const APIVersion = "2010-04-01"

// maxBody bounds a request body: Twiml= documents are the largest thing a
// request carries, and Twilio caps those at 4,000 characters.
const maxBody = 64 << 10

// CallControl is what the API needs of the SIP server (a *sip.Server).
type CallControl interface {
	Calls() []sip.CallStatus
	CallBySid(sid string) *sip.Call
	// DialURI places a call; a DialRequest with User calls a softphone
	// registered to sipagent.
	DialURI(ctx context.Context, req sip.DialRequest, ag agent.Agent) (string, error)
	// Registered reports whether a user has a contact registered with
	// sipagent's registrar.
	Registered(user string) bool
}

// Config configures the API.
type Config struct {
	// AccountSid is the account in the URL paths and the basic-auth
	// user: letters, digits, '-' and '_', at most 64.
	AccountSid string
	// AuthToken is the basic-auth password; New refuses an empty one,
	// so that nothing is open by default.
	AuthToken string
	Calls     CallControl
	// Policy is where created calls may go (sip: URIs); nil lets them go
	// nowhere. client:NAME, a softphone registered to sipagent, always
	// may.
	Policy *transfer.Policy
	// TwiML is the template for the agents the API runs (Synthesizer,
	// Stream, Fallback...); URL, Method and Document are set per
	// request. AccountSid and AuthToken default to the API's, so that
	// webhooks are signed with the token applications know, as
	// Twilio's are.
	TwiML twiml.Config
	// Agents are the configured agents by name: Agent=NAME, sipagent's
	// own extension to create and update, runs one of them on the call
	// instead of TwiML.
	Agents map[string]agent.Agent
	Logger *slog.Logger
}

// liveCall is what the API does to a live call; *sip.Call has it.
type liveCall interface {
	Redirect(ag agent.Agent) error
	Hangup(reason string)
	Answered() bool
}

var _ liveCall = (*sip.Call)(nil)

// liveCallFinder is a CallControl that hands out its calls as liveCall
// rather than *sip.Call: the tests' fake, whose calls are not SIP calls.
type liveCallFinder interface {
	liveCall(sid string) liveCall
}

// API serves the live-call REST API. It is safe for concurrent use.
type API struct {
	cfg     Config
	log     *slog.Logger
	find    func(sid string) liveCall
	handler http.Handler

	// The credentials' hashes, compared in constant time whatever the
	// length of what a client sends.
	userHash, tokenHash [sha256.Size]byte

	// ctx is cancelled by Close: calls still being dialled stop ringing.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // one per dial in progress

	mu      sync.Mutex
	closed  bool
	dialing map[string]*dialing // by SID: created calls not yet answered

	closeOnce sync.Once
}

// New checks cfg and builds the API. Errors name the field.
func New(cfg Config) (*API, error) {
	if err := checkAccountSid(cfg.AccountSid); err != nil {
		return nil, err
	}
	if cfg.AuthToken == "" {
		return nil, errors.New("api: AuthToken is empty; the API does not run without authentication")
	}
	if cfg.Calls == nil {
		return nil, errors.New("api: Calls is nil")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.TwiML.AccountSid == "" {
		cfg.TwiML.AccountSid = cfg.AccountSid
	}
	if cfg.TwiML.AuthToken == "" {
		cfg.TwiML.AuthToken = cfg.AuthToken
	}
	if cfg.TwiML.Logger == nil {
		cfg.TwiML.Logger = cfg.Logger
	}
	a := &API{
		cfg:       cfg,
		log:       cfg.Logger,
		userHash:  sha256.Sum256([]byte(cfg.AccountSid)),
		tokenHash: sha256.Sum256([]byte(cfg.AuthToken)),
		dialing:   make(map[string]*dialing),
	}
	a.find = func(sid string) liveCall {
		if c := cfg.Calls.CallBySid(sid); c != nil {
			return c
		}
		return nil // not a nil *sip.Call in a non-nil interface
	}
	if f, ok := cfg.Calls.(liveCallFinder); ok {
		a.find = f.liveCall
	}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	a.handler = a.routes()
	return a, nil
}

func checkAccountSid(s string) error {
	if s == "" || len(s) > 64 {
		return fmt.Errorf("api: AccountSid %q: want 1 to 64 characters", s)
	}
	for _, c := range s {
		if !isAlnum(c) && c != '-' && c != '_' {
			return fmt.Errorf("api: AccountSid %q: only letters, digits, '-' and '_'", s)
		}
	}
	return nil
}

func isAlnum(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// Handler returns the API's HTTP handler.
func (a *API) Handler() http.Handler { return a.handler }

// Close cancels the calls the API is still dialling (they get a CANCEL)
// and waits for their goroutines. Calls already answered belong to the
// SIP server and go on. Calls cannot be created afterwards; the rest of
// the API still answers. Close is idempotent.
func (a *API) Close() error {
	a.closeOnce.Do(func() {
		a.mu.Lock()
		a.closed = true
		a.mu.Unlock()
		a.cancel()
		a.wg.Wait()
	})
	return nil
}

// routes builds the mux. The resource paths end in "{CallSid}.json",
// which a ServeMux wildcard cannot express: the handlers strip ".json".
func (a *API) routes() http.Handler {
	const calls = "/" + APIVersion + "/Accounts/{AccountSid}/Calls"
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+calls+".json", a.account(a.list))
	mux.HandleFunc("POST "+calls+".json", a.account(a.create))
	mux.HandleFunc(calls+".json", methodNotAllowed)
	mux.HandleFunc("GET "+calls+"/{CallSid}", a.account(a.fetch))
	mux.HandleFunc("POST "+calls+"/{CallSid}", a.account(a.update))
	mux.HandleFunc(calls+"/{CallSid}", methodNotAllowed)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, notFound("the requested resource %s was not found", r.URL.Path))
	})
	return a.authenticate(mux)
}

// authenticate lets through requests with the account's basic-auth
// credentials, with their bodies bounded. Everything else is 401, unknown
// paths included, so that nobody learns anything without the token.
func (a *API) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, token, ok := r.BasicAuth()
		u, t := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(token))
		// Both compared, always: & rather than &&.
		good := subtle.ConstantTimeCompare(u[:], a.userHash[:]) & subtle.ConstantTimeCompare(t[:], a.tokenHash[:])
		if !ok || good != 1 {
			a.log.Debug("API request without valid credentials", "remote", r.RemoteAddr, "path", r.URL.Path)
			w.Header().Set("WWW-Authenticate", `Basic realm="sipagent"`)
			writeError(w, errorf(http.StatusUnauthorized, codeAuth, "Authenticate"))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		next.ServeHTTP(w, r)
	})
}

// account runs h for requests whose path names the configured account;
// another account does not exist here (404, as Twilio answers for an
// account the credentials do not own).
func (a *API) account(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("AccountSid") != a.cfg.AccountSid {
			writeError(w, notFound("the requested resource %s was not found", r.URL.Path))
			return
		}
		h(w, r)
	}
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", "GET, POST")
	writeError(w, errorf(http.StatusMethodNotAllowed, codeMethod, "method %s not allowed", r.Method))
}

// callSid is the {CallSid}.json segment without ".json".
func callSid(r *http.Request) (string, *Error) {
	sid, ok := strings.CutSuffix(r.PathValue("CallSid"), ".json")
	if !ok || sid == "" {
		return "", notFound("the requested resource %s was not found", r.URL.Path)
	}
	return sid, nil
}

// parseForm reads a POST's form body, bounded by authenticate.
func parseForm(r *http.Request) *Error {
	if err := r.ParseForm(); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return errorf(http.StatusRequestEntityTooLarge, codeRequestTooLarge, "the request body is over %d bytes", maxBody)
		}
		return badRequest(codeCallsResource, "unreadable form body: %v", err)
	}
	return nil
}
