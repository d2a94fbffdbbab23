package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/sipagent/sipagent/sip"
)

// Status is what GET /status returns: the registration state of every
// account and the server's load.
type Status struct {
	Version       string                   `json:"version"`
	ActiveCalls   int                      `json:"active_calls"`
	Registrations []sip.RegistrationStatus `json:"registrations"`
	Registrar     struct {
		Users    int `json:"users"`
		Bindings int `json:"bindings"`
	} `json:"registrar"`
}

func currentStatus(srv *sip.Server) Status {
	st := Status{Version: version, ActiveCalls: srv.ActiveCalls(), Registrations: srv.Registrations()}
	st.Registrar.Users, st.Registrar.Bindings = srv.RegistrarCount()
	return st
}

// serveStatus starts the status endpoint on addr: /status, /metrics
// (Prometheus), /healthz and /readyz, and the live-call API under
// /2010-04-01/ when apiHandler is not nil. It shows state, never secrets; the
// default configuration keeps it on loopback.
func serveStatus(addr string, srv *sip.Server, apiHandler http.Handler, log *slog.Logger) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("http.listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(currentStatus(srv)) // a client gone mid-write is its problem
	})
	mux.Handle("GET /metrics", metricsHandler(srv))
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /readyz", readyz(srv))
	if apiHandler != nil {
		// The live-call API checks its own credentials on every request.
		mux.Handle("/2010-04-01/", apiHandler)
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("status endpoint failed", "error", err)
		}
	}()
	log.Info("status endpoint", "url", "http://"+ln.Addr().String()+"/status")
	if ap, err := netip.ParseAddrPort(ln.Addr().String()); err == nil && !ap.Addr().IsLoopback() {
		log.Warn("the status endpoint is reachable beyond this machine and has no authentication", "addr", ln.Addr().String())
	}
	return hs, nil
}

// printStatus fetches /status from a running sipagent and prints it for
// people: `sipagent status`.
func printStatus(addr string, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/status", nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("is sipagent running with http.listen %s? %w", addr, err)
	}
	defer func() { _ = res.Body.Close() }()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /status: %s", res.Status)
	}
	var st Status
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		return fmt.Errorf("GET /status: %w", err)
	}
	fmt.Fprintf(stdout, "sipagent %s: %d active calls, %d registered users (%d contacts)\n",
		st.Version, st.ActiveCalls, st.Registrar.Users, st.Registrar.Bindings)
	if len(st.Registrations) == 0 {
		fmt.Fprintln(stdout, "no accounts")
	}
	for _, r := range st.Registrations {
		fmt.Fprintf(stdout, "%s  %s via %s (%s): %s", r.Account, r.AOR, r.Registrar, r.Transport, r.State)
		switch {
		case r.State == sip.RegRegistered:
			fmt.Fprintf(stdout, " until %s as %s", r.Until.Format(time.RFC3339), r.Contact)
		case !r.Retry.IsZero():
			fmt.Fprintf(stdout, " because %s; retrying at %s (%d failures)", r.LastError, r.Retry.Format(time.RFC3339), r.Failures)
		}
		fmt.Fprintln(stdout)
	}
	return nil
}
