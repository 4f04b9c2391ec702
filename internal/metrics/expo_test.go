package metrics_test

import (
	"math"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/metrics"
)

// TestScrapeParses reads a scrape with the Prometheus project's own text
// parser: every family has its type, label values come back as they went
// in (escaping included), and the histogram's buckets are cumulative, end
// in +Inf and agree with its count and sum.
func TestScrapeParses(t *testing.T) {
	const odd = "a\"b\\c\nd" // not a valid role name, but the escaping must hold anyway
	m := metrics.New(metrics.Options{RoleLabels: true, RoleOf: func(ossd.Key) string { return odd }, Expiry: func() map[string]float64 {
		return map[string]float64{"reader": 3000, "writer": math.Inf(1)}
	}})
	for _, d := range []time.Duration{5 * time.Millisecond, 30 * time.Millisecond, 30 * time.Millisecond, 20 * time.Second} {
		m.Fetched(ossd.Key{}, nil, d)
	}
	m.Fetched(ossd.Key{}, &ossd.STSError{Code: "Throttling.User"}, time.Second)
	m.AddProcess(metrics.Build{Version: "v1", Revision: odd, GoVersion: "go1"}, func() (bool, time.Time) { return true, time.Unix(1e9, 0) })
	m.AddSTS(func() time.Duration { return -1500 * time.Millisecond }, func() float64 { return 12.5 })
	m.Request("socket", "/v1/credentials/{role}", 200)
	m.Request("socket", "/v1/credentials/{role}", 200)
	m.Served("hit")
	m.Denied("metadata", "Forbidden")

	body := scrape(t, m)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("the Prometheus parser refuses the scrape: %v\n%s", err, body)
	}
	types := map[string]dto.MetricType{
		"ossd_sts_calls_total": dto.MetricType_COUNTER, "ossd_sts_call_duration_seconds": dto.MetricType_HISTOGRAM,
		"ossd_cache_lookups_total": dto.MetricType_COUNTER, "ossd_refresh_failures_total": dto.MetricType_COUNTER,
		"ossd_http_requests_total": dto.MetricType_COUNTER, "ossd_denials_total": dto.MetricType_COUNTER,
		"ossd_credentials_expiry_seconds": dto.MetricType_GAUGE, "ossd_build_info": dto.MetricType_GAUGE,
		"ossd_config_last_reload_success": dto.MetricType_GAUGE, "go_goroutines": dto.MetricType_GAUGE,
		"go_gc_duration_seconds": dto.MetricType_SUMMARY, "go_memstats_alloc_bytes_total": dto.MetricType_COUNTER,
		"process_cpu_seconds_total": dto.MetricType_COUNTER, "process_resident_memory_bytes": dto.MetricType_GAUGE,
		"process_start_time_seconds": dto.MetricType_GAUGE, "process_open_fds": dto.MetricType_GAUGE,
		"ossd_sts_clock_offset_seconds": dto.MetricType_GAUGE, "ossd_sts_rate_limit": dto.MetricType_GAUGE,
	}
	for name, typ := range types {
		if f := fams[name]; f == nil || f.GetType() != typ || f.GetHelp() == "" {
			t.Errorf("family %s = %v, want type %v with help", name, f, typ)
		}
	}
	if got := fams["ossd_refresh_failures_total"].GetMetric()[0].GetLabel()[0].GetValue(); got != odd {
		t.Errorf("role label = %q, want %q", got, odd)
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_inuse_bytes", "process_resident_memory_bytes", "process_start_time_seconds", "process_open_fds"} {
		if v := value(fams[name]); v <= 0 {
			t.Errorf("%s = %v, want a positive value", name, v)
		}
	}
	if start, now := value(fams["process_start_time_seconds"]), float64(clock.Real{}.Now().Unix()); math.Abs(now-start) > 3600 {
		t.Errorf("process_start_time_seconds = %v, want within an hour of now (%v)", start, now)
	}
	if off, rate := value(fams["ossd_sts_clock_offset_seconds"]), value(fams["ossd_sts_rate_limit"]); off != -1.5 || rate != 12.5 {
		t.Errorf("STS gauges = %v, %v; want -1.5 and 12.5", off, rate)
	}
	req := fams["ossd_http_requests_total"].GetMetric()[0]
	if req.GetCounter().GetValue() != 2 || len(req.GetLabel()) != 3 {
		t.Errorf("requests = %v, want 2 with listener, route and status", req)
	}
	h := fams["ossd_sts_call_duration_seconds"].GetMetric()[0].GetHistogram()
	if h.GetSampleCount() != 5 || math.Abs(h.GetSampleSum()-21.065) > 1e-9 {
		t.Errorf("histogram count %d sum %v, want 5 and 21.065", h.GetSampleCount(), h.GetSampleSum())
	}
	want := map[float64]uint64{.01: 1, .025: 1, .05: 3, 1: 4, 10: 4, math.Inf(1): 5}
	var last uint64
	for _, b := range h.GetBucket() {
		if b.GetCumulativeCount() < last {
			t.Errorf("bucket le=%v = %d, below the one before (%d)", b.GetUpperBound(), b.GetCumulativeCount(), last)
		}
		last = b.GetCumulativeCount()
		if w, ok := want[b.GetUpperBound()]; ok && w != last {
			t.Errorf("bucket le=%v = %d, want %d", b.GetUpperBound(), last, w)
		}
	}
	if exp := fams["ossd_credentials_expiry_seconds"].GetMetric(); len(exp) != 2 || !math.IsInf(exp[1].GetGauge().GetValue(), 1) {
		t.Errorf("expiry = %v, want reader and writer (+Inf)", exp)
	}
}

// value returns the value of a family's first gauge or counter, or -1.
func value(f *dto.MetricFamily) float64 {
	if f == nil || len(f.GetMetric()) == 0 {
		return -1
	}
	if g := f.GetMetric()[0].GetGauge(); g != nil {
		return g.GetValue()
	}
	return f.GetMetric()[0].GetCounter().GetValue()
}

// BenchmarkRequest is the cost the socket API pays per request when metrics
// are on; BenchmarkServed the refresher's per lookup.
func BenchmarkRequest(b *testing.B) {
	m := metrics.New(metrics.Options{RoleLabels: true, RoleOf: func(ossd.Key) string { return "" }})
	b.ReportAllocs()
	for b.Loop() {
		m.Request("socket", "/v1/credentials/{role}", 200)
	}
}

func BenchmarkServed(b *testing.B) {
	m := metrics.New(metrics.Options{RoleLabels: true, RoleOf: func(ossd.Key) string { return "" }})
	b.ReportAllocs()
	for b.Loop() {
		m.Served("hit")
	}
}
