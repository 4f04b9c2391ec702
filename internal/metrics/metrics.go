// Package metrics exposes the daemon's Prometheus metrics on an opt-in
// listener. Every label value comes from a bounded set: configured role
// names, route patterns, HTTP status codes, and STS error codes capped in
// number; nothing a caller types and nothing secret becomes a label.
//
// A Metrics is safe for concurrent use.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ossd/ossd"
)

// maxCodes bounds how many distinct STS error codes get their own label.
const maxCodes = 64

// codeLabel reports whether c may be a label value as it is: 1-64 of
// [A-Za-z0-9.], as STS codes are.
func codeLabel(c string) bool {
	if len(c) < 1 || len(c) > 64 {
		return false
	}
	for i := 0; i < len(c); i++ {
		if b := c[i]; !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '.') {
			return false
		}
	}
	return true
}

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

// Build describes the running binary for ossd_build_info.
type Build struct{ Version, Revision, GoVersion string }

// Reload reports the last config load for the reload gauges: whether it
// was applied, and when.
type Reload func() (ok bool, at time.Time)

// AddProcess registers ossd_build_info for b, the config reload gauges
// read from last at scrape time, and the standard Go runtime and process
// collectors. The daemon calls it once; nothing is registered at package
// initialisation, so a command that never serves metrics pays nothing.
func (m *Metrics) AddProcess(b Build, last Reload) {
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ossd_build_info", Help: "Always 1; the labels say which build is running.",
	}, []string{"version", "revision", "goversion"})
	info.WithLabelValues(b.Version, b.Revision, b.GoVersion).Set(1)
	ok := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "ossd_config_last_reload_success", Help: "1 if the last load of the config file was applied, 0 if it was rejected (the previous config runs).",
	}, func() float64 {
		if applied, _ := last(); applied {
			return 1
		}
		return 0
	})
	at := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "ossd_config_last_reload_timestamp_seconds", Help: "Unix time of the last load of the config file, applied or rejected.",
	}, func() float64 {
		_, t := last()
		if t.IsZero() {
			return 0
		}
		return float64(t.UnixNano()) / 1e9
	})
	m.reg.MustRegister(info, ok, at, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}

// AddSTS registers what the daemon knows of STS, read at scrape time: how
// far its clock is from ours (offset) and the AssumeRole rate the daemon
// allows itself now, max_qps or less after throttling (rate).
func (m *Metrics) AddSTS(offset func() time.Duration, rate func() float64) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "ossd_sts_clock_offset_seconds", Help: "STS's clock minus ours at the last successful AssumeRole, from its Date header.",
		}, func() float64 { return offset().Seconds() }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "ossd_sts_rate_limit", Help: "AssumeRole calls per second the daemon allows itself now: sts.max_qps, or less after STS answered Throttling.",
		}, rate),
	)
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
	if !codeLabel(c) {
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
