package main

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/sipagent/sipagent/sip"
	"github.com/sipagent/sipagent/transfer"
)

// callSource is what the metrics read of the SIP server at scrape time
// (*sip.Server).
type callSource interface {
	Stats() sip.Stats
	Registrations() []sip.RegistrationStatus
}

// transferSource is what the metrics read of the transfer service
// (*transfer.Service).
type transferSource interface {
	Stats() transfer.TransferStats
}

// regStates are the registration states every account has a
// sipagent_registrations series for: 1 for its state, 0 for the others,
// so that a query need not know which states have been seen.
var regStates = []string{sip.RegStarting, sip.RegRegistered, sip.RegRetrying, sip.RegRefused, sip.RegUnregistered}

// metricsCollector turns the counters the sip and transfer packages keep
// into Prometheus metrics when scraped: those packages know nothing of
// Prometheus, and nothing is counted twice.
type metricsCollector struct {
	calls     callSource
	transfers transferSource // nil without a transfer service

	callsTotal, callsActive                    *prometheus.Desc
	rtpIn, rtpOut, rtpLost, jitterDrops        *prometheus.Desc
	agentErrors, transfersTotal, registrations *prometheus.Desc
}

func newMetricsCollector(calls callSource, transfers transferSource) *metricsCollector {
	return &metricsCollector{
		calls:     calls,
		transfers: transfers,

		callsTotal: prometheus.NewDesc("sipagent_calls_total",
			"Calls ended, by outcome: completed, cancelled, rejected, failed, rtp_timeout, agent_error, shutdown.",
			[]string{"outcome"}, nil),
		callsActive: prometheus.NewDesc("sipagent_calls_active",
			"Calls in setup or in progress.", nil, nil),
		rtpIn: prometheus.NewDesc("sipagent_rtp_packets_received_total",
			"RTP packets received, counted up to each scrape.", nil, nil),
		rtpOut: prometheus.NewDesc("sipagent_rtp_packets_sent_total",
			"RTP packets sent, counted up to each scrape.", nil, nil),
		rtpLost: prometheus.NewDesc("sipagent_rtp_packets_lost_total",
			"Audio packets never played: lost, concealed or skipped.", nil, nil),
		jitterDrops: prometheus.NewDesc("sipagent_jitter_buffer_drops_total",
			"Audio packets the jitter buffer threw away.", nil, nil),
		agentErrors: prometheus.NewDesc("sipagent_agent_errors_total",
			"Agents that failed, while their call ran or after it ended.", nil, nil),
		transfersTotal: prometheus.NewDesc("sipagent_transfers_total",
			"Transfers ended, by mode (refer, bridge) and outcome: completed, busy, no-answer, failed, canceled, refused-by-policy.",
			[]string{"mode", "outcome"}, nil),
		registrations: prometheus.NewDesc("sipagent_registrations",
			"Registration state of each account: 1 for its current state, 0 for the others.",
			[]string{"account", "state"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (m *metricsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.callsTotal, m.callsActive, m.rtpIn, m.rtpOut, m.rtpLost,
		m.jitterDrops, m.agentErrors, m.transfersTotal, m.registrations} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *metricsCollector) Collect(ch chan<- prometheus.Metric) {
	st := m.calls.Stats()
	for o, n := range st.Calls {
		ch <- prometheus.MustNewConstMetric(m.callsTotal, prometheus.CounterValue, float64(n), sip.CallOutcome(o).String())
	}
	ch <- prometheus.MustNewConstMetric(m.callsActive, prometheus.GaugeValue, float64(st.ActiveCalls))
	ch <- prometheus.MustNewConstMetric(m.rtpIn, prometheus.CounterValue, float64(st.RTPPacketsIn))
	ch <- prometheus.MustNewConstMetric(m.rtpOut, prometheus.CounterValue, float64(st.RTPPacketsOut))
	ch <- prometheus.MustNewConstMetric(m.rtpLost, prometheus.CounterValue, float64(st.RTPLost))
	ch <- prometheus.MustNewConstMetric(m.jitterDrops, prometheus.CounterValue, float64(st.JitterDrops))
	ch <- prometheus.MustNewConstMetric(m.agentErrors, prometheus.CounterValue, float64(st.AgentErrors))

	if m.transfers != nil {
		ts := m.transfers.Stats()
		for o := range ts.Refer {
			label := transfer.Outcome(o).String()
			ch <- prometheus.MustNewConstMetric(m.transfersTotal, prometheus.CounterValue, float64(ts.Refer[o]), string(transfer.ModeRefer), label)
			ch <- prometheus.MustNewConstMetric(m.transfersTotal, prometheus.CounterValue, float64(ts.Bridge[o]), string(transfer.ModeBridge), label)
		}
	}

	for _, r := range m.calls.Registrations() {
		known := false
		for _, s := range regStates {
			v := 0.0
			if s == r.State {
				v, known = 1, true
			}
			ch <- prometheus.MustNewConstMetric(m.registrations, prometheus.GaugeValue, v, r.Account, s)
		}
		if !known {
			ch <- prometheus.MustNewConstMetric(m.registrations, prometheus.GaugeValue, 1, r.Account, r.State)
		}
	}
}

// metricsHandler serves /metrics from a registry of its own (not the
// global one): sipagent's metrics and the Go runtime's and process's.
func metricsHandler(srv *sip.Server) http.Handler {
	var transfers transferSource
	if ts, ok := srv.Transferrer().(transferSource); ok {
		transfers = ts
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newMetricsCollector(srv, transfers),
	)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

// healthz answers 200 while the process serves HTTP at all: a liveness
// check.
func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// readyz answers 200 while the SIP listeners are up and the server takes
// calls, 503 before that and once it drains: a readiness check, for a
// load balancer to stop sending calls before they would be refused.
func readyz(srv *sip.Server) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !srv.Ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready\n"))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	}
}
