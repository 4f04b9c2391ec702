// Package metrics exposes the daemon's Prometheus metrics on an opt-in
// listener. Every label value comes from a bounded set: configured role
// names, route patterns, HTTP status codes, and STS error codes capped in
// number; nothing a caller types and nothing secret becomes a label.
//
// It writes the Prometheus text format (0.0.4) itself rather than through
// the Prometheus client library: that library registers its collectors at
// package init and links protobuf, which cost every ossd command, the
// credential helper included, a quarter of its start-up. Nothing here runs
// until [New], which only serve calls.
//
// A Metrics is safe for concurrent use.
package metrics

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/audit"
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

// Metrics holds the daemon's metrics.
type Metrics struct {
	stsCalls *counter
	stsTime  *histogram
	lookups  *counter
	failures *counter
	requests *counter
	denials  *counter
	roleOf   func(ossd.Key) string // nil without role labels
	expiry   func() map[string]float64
	byRole   bool               // role labels on the per-role series
	audit    func() audit.State // nil: no audit series
	process  *process           // nil until AddProcess
	sts      *stsGauges         // nil until AddSTS
	mu       sync.Mutex         // guards codes
	codes    map[string]bool
}

// Options configure New.
type Options struct {
	// RoleOf names the configured role of a cache key ("" for an on-demand
	// session).
	RoleOf func(ossd.Key) string
	// Expiry reports seconds until expiry by configured role, at scrape
	// time.
	Expiry func() map[string]float64
	// RoleLabels labels the per-role series with role names; otherwise
	// they are aggregated over roles ([metrics] role_labels): the metrics
	// listener is loopback TCP that every local user can reach, and the
	// socket hides from a caller which roles exist.
	RoleLabels bool
	// Audit reports the audit log's state at scrape time; nil leaves the
	// audit series out.
	Audit func() audit.State
}

// New returns Metrics.
func New(o Options) *Metrics {
	m := &Metrics{
		stsCalls: newCounter("ossd_sts_calls_total", "AssumeRole calls by result code (Success or the STS error code).", "code"),
		stsTime: newHistogram("ossd_sts_call_duration_seconds", "AssumeRole latency.",
			[]float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}),
		lookups:  newCounter("ossd_cache_lookups_total", "Credential lookups by result: hit, degraded, miss, error.", "result"),
		requests: newCounter("ossd_http_requests_total", "Requests by listener, route pattern and status.", "listener", "route", "status"),
		denials:  newCounter("ossd_denials_total", "Refused requests by listener and reason code.", "listener", "reason"),
		expiry:   o.Expiry,
		byRole:   o.RoleLabels,
		audit:    o.Audit,
		codes:    map[string]bool{},
	}
	if o.RoleLabels {
		m.roleOf = o.RoleOf
		m.failures = newCounter("ossd_refresh_failures_total", "Failed AssumeRole attempts by configured role (on-demand sessions as \"\").", "role")
	} else {
		m.failures = newCounter("ossd_refresh_failures_total", "Failed AssumeRole attempts, all roles together (role_labels is off).")
	}
	return m
}

// Build describes the running binary for ossd_build_info.
type Build struct{ Version, Revision, GoVersion string }

// Reload reports the last config load for the reload gauges: whether it
// was applied, and when.
type Reload func() (ok bool, at time.Time)

// AddProcess adds ossd_build_info for b, the config reload gauges read
// from last at scrape time, and the standard Go runtime and process
// metrics (process.go). The daemon calls it once, before serving the
// metrics; nothing is set up at package initialisation, so a command that
// never serves metrics pays nothing.
func (m *Metrics) AddProcess(b Build, last Reload) {
	m.process = &process{build: b, last: last}
}

// AddSTS adds what the daemon knows of STS, read at scrape time: how far
// its clock is from ours (offset) and the AssumeRole rate the daemon
// allows itself now, max_qps or less after throttling (rate). The daemon
// calls it once, before serving the metrics.
func (m *Metrics) AddSTS(offset func() time.Duration, rate func() float64) {
	m.sts = &stsGauges{offset: offset, rate: rate}
}

// stsGauges are the gauges AddSTS adds.
type stsGauges struct {
	offset func() time.Duration
	rate   func() float64
}

func (g *stsGauges) write(b []byte) []byte {
	b = gauge(b, "ossd_sts_clock_offset_seconds", "STS's clock minus ours at the last successful AssumeRole, from its Date header.", g.offset().Seconds())
	return gauge(b, "ossd_sts_rate_limit", "AssumeRole calls per second the daemon allows itself now: sts.max_qps, or less after STS answered Throttling.", g.rate())
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Write(m.appendText(make([]byte, 0, 4096))) // a failed write means the scraper left
	})
}

// appendText appends every metric in the text format.
func (m *Metrics) appendText(b []byte) []byte {
	b = m.stsCalls.write(b)
	b = m.stsTime.write(b)
	b = m.lookups.write(b)
	b = m.failures.write(b)
	b = m.requests.write(b)
	b = m.denials.write(b)
	b = m.writeExpiry(b)
	if m.audit != nil {
		st := m.audit()
		b = header(b, "ossd_audit_write_failures_total", "Audit lines that could not be written (the actions they recorded were refused unless [audit] required = false).", "counter")
		b = append(b, "ossd_audit_write_failures_total "+strconv.FormatUint(uint64(st.Failures), 10)+"\n"...)
		ok := 0.0
		if st.OK {
			ok = 1
		}
		b = gauge(b, "ossd_audit_ok", "1 while the audit log is written, 0 while it cannot be.", ok)
	}
	if m.sts != nil {
		b = m.sts.write(b)
	}
	if m.process != nil {
		b = m.process.write(b)
	}
	return b
}

// writeExpiry appends the seconds until expiry, read now: per configured
// role with role labels, else the soonest over all roles.
func (m *Metrics) writeExpiry(b []byte) []byte {
	var exp map[string]float64
	if m.expiry != nil {
		exp = m.expiry()
	}
	if m.byRole {
		return gauges(b, "ossd_credentials_expiry_seconds", "Seconds until the cached token of each configured role expires.", "role", exp)
	}
	if len(exp) == 0 {
		return header(b, "ossd_credentials_expiry_seconds", "Seconds until the soonest-expiring cached token of any configured role expires.", "gauge")
	}
	soonest := math.Inf(1)
	for _, secs := range exp {
		soonest = min(soonest, secs)
	}
	return gauge(b, "ossd_credentials_expiry_seconds", "Seconds until the soonest-expiring cached token of any configured role expires.", soonest)
}

// Fetched implements refresher.Observer.
func (m *Metrics) Fetched(k ossd.Key, err error, took time.Duration) {
	m.stsTime.observe(took.Seconds())
	if err == nil {
		m.stsCalls.inc(labels{"Success"})
		return
	}
	m.stsCalls.inc(labels{m.code(ossd.ErrorCode(err))})
	if m.roleOf == nil {
		m.failures.inc(labels{})
		return
	}
	m.failures.inc(labels{m.roleOf(k)})
}

// Served implements refresher.Observer.
func (m *Metrics) Served(result string) { m.lookups.inc(labels{result}) }

// Request counts one HTTP request. route must be a registered pattern.
func (m *Metrics) Request(listener, route string, status int) {
	m.requests.inc(labels{listener, route, strconv.Itoa(status)})
}

// Denied counts one refusal; reason must be a stable error code.
func (m *Metrics) Denied(listener, reason string) {
	m.denials.inc(labels{listener, reason})
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
