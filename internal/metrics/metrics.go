// Package metrics exposes the daemon's Prometheus metrics on an opt-in
// listener. Every label value comes from a bounded set: configured role
// names, route patterns, HTTP status codes, and STS error codes capped in
// number; nothing a caller types and nothing secret becomes a label.
//
// A Metrics is safe for concurrent use.
package metrics

import (
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ossd/ossd"
)

// maxCodes bounds how many distinct STS error codes get their own label.
const maxCodes = 64

var codeRe = regexp.MustCompile(`^[A-Za-z0-9.]{1,64}$`)

// Metrics holds the daemon's collectors in a private registry.
type Metrics struct {
	reg      *prometheus.Registry
	stsCalls *prometheus.CounterVec
	stsTime  prometheus.Histogram
	lookups  *prometheus.CounterVec
	failures *prometheus.CounterVec
	requests *prometheus.CounterVec
	denials  *prometheus.CounterVec
	roleOf   func(ossd.Key) string
	mu       sync.Mutex // guards codes
	codes    map[string]bool
}

// New returns Metrics. roleOf names the configured role of a cache key
// ("" for an on-demand session); expiry reports seconds until expiry by
// configured role at scrape time.
func New(roleOf func(ossd.Key) string, expiry func() map[string]float64) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), roleOf: roleOf, codes: map[string]bool{}}
	m.stsCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ossd_sts_calls_total", Help: "AssumeRole calls by result code (Success or the STS error code).",
	}, []string{"code"})
	m.stsTime = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "ossd_sts_call_duration_seconds", Help: "AssumeRole latency.",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	})
	m.lookups = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ossd_cache_lookups_total", Help: "Credential lookups by result: hit, degraded, miss, error.",
	}, []string{"result"})
	m.failures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ossd_refresh_failures_total", Help: "Failed AssumeRole attempts by configured role (on-demand sessions as \"\").",
	}, []string{"role"})
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ossd_http_requests_total", Help: "Requests by listener, route pattern and status.",
	}, []string{"listener", "route", "status"})
	m.denials = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ossd_denials_total", Help: "Refused requests by listener and reason code.",
	}, []string{"listener", "reason"})
	m.reg.MustRegister(m.stsCalls, m.stsTime, m.lookups, m.failures, m.requests, m.denials,
		newExpiryCollector(expiry))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Fetched implements refresher.Observer.
func (m *Metrics) Fetched(k ossd.Key, err error, took time.Duration) {
	m.stsTime.Observe(took.Seconds())
	if err == nil {
		m.stsCalls.WithLabelValues("Success").Inc()
		return
	}
	m.stsCalls.WithLabelValues(m.code(ossd.ErrorCode(err))).Inc()
	m.failures.WithLabelValues(m.roleOf(k)).Inc()
}

// Served implements refresher.Observer.
func (m *Metrics) Served(result string) { m.lookups.WithLabelValues(result).Inc() }

// Request counts one HTTP request. route must be a registered pattern.
func (m *Metrics) Request(listener, route string, status int) {
	m.requests.WithLabelValues(listener, route, strconv.Itoa(status)).Inc()
}

// Denied counts one refusal; reason must be a stable error code.
func (m *Metrics) Denied(listener, reason string) {
	m.denials.WithLabelValues(listener, reason).Inc()
}

// code bounds the label values STS codes can create.
func (m *Metrics) code(c string) string {
	if c == "" {
		return "unknown"
	}
	if !codeRe.MatchString(c) {
		return "other"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.codes[c] {
		if len(m.codes) >= maxCodes {
			return "other"
		}
		m.codes[c] = true
	}
	return c
}
