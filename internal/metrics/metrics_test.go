package metrics_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/localsts"
	"github.com/ossd/ossd/internal/logtest"
	"github.com/ossd/ossd/internal/metrics"
	"github.com/ossd/ossd/internal/service"
	"github.com/ossd/ossd/internal/testenv"
)

// lazy lets the metrics read a service created after them.
type lazy struct{ svc *service.Service }

func (l *lazy) expiry() map[string]float64 {
	out := map[string]float64{}
	for _, st := range l.svc.Status() {
		out[st.Name] = st.ExpiresIn
	}
	return out
}

func TestScrapeAfterScriptedSequence(t *testing.T) {
	l := &lazy{}
	m := metrics.New(metrics.Options{RoleOf: func(k ossd.Key) string { return l.svc.NameOf(k) }, Expiry: l.expiry, RoleLabels: true})
	env := testenv.New(t, testenv.Options{Observer: m}, "reader", "writer")
	l.svc = env.Service
	ctx := context.Background()
	env.Service.Apply(ctx, testenv.Roles("reader", "writer")) // 2 STS calls
	for range 3 {
		env.Service.Credentials(ctx, "reader", "") // 3 hits
	}
	env.STS.FailNext(1, localsts.Fault{Code: "Throttling.User"})
	env.Service.Credentials(ctx, "reader", "job") // a miss that fails
	env.Clock.Advance(10 * time.Minute)
	m.Request("socket", "/v1/credentials/{role}", 200)
	m.Request("socket", "/v1/credentials/{role}", 404)
	m.Denied("metadata", "Forbidden")
	m.AddSTS(env.Ref.ClockOffset, env.Ref.Rate)

	body := scrape(t, m)
	for _, want := range []string{
		`ossd_sts_calls_total{code="Success"} 2`,
		`ossd_sts_calls_total{code="Throttling.User"} 1`,
		`ossd_sts_call_duration_seconds_count 3`,
		`ossd_cache_lookups_total{result="hit"} 3`,
		`ossd_cache_lookups_total{result="error"} 1`,
		`ossd_refresh_failures_total{role=""} 1`,
		`ossd_credentials_expiry_seconds{role="reader"} 3000`,
		`ossd_credentials_expiry_seconds{role="writer"} 3000`,
		`ossd_http_requests_total{listener="socket",route="/v1/credentials/{role}",status="404"} 1`,
		`ossd_denials_total{listener="metadata",reason="Forbidden"} 1`,
		`ossd_sts_clock_offset_seconds 0`,
		`ossd_sts_rate_limit 50`, // cut by the throttling answer, regrown in the 10 minutes since
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("scrape lacks %q", want)
		}
	}
	logtest.NoSecrets(t, "metrics", body, env.Secrets()...)
	if t.Failed() {
		t.Log(body)
	}
}

func TestCodeLabelsAreBounded(t *testing.T) {
	m := metrics.New(metrics.Options{RoleOf: func(ossd.Key) string { return "" }, RoleLabels: true})
	for i := range 200 {
		m.Fetched(ossd.Key{}, &ossd.STSError{Code: "Code" + strings.Repeat("x", i%70)}, time.Millisecond)
	}
	m.Fetched(ossd.Key{}, &ossd.STSError{Code: "bad code {}"}, time.Millisecond)
	body := scrape(t, m)
	if n := strings.Count(body, "ossd_sts_calls_total{"); n > 66 {
		t.Errorf("%d code series, want at most 64 plus other/unknown", n)
	}
	if !strings.Contains(body, `ossd_sts_calls_total{code="other"}`) {
		t.Error("no other series for codes past the bound")
	}
}

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestProcessMetrics(t *testing.T) {
	m := metrics.New(metrics.Options{RoleOf: func(ossd.Key) string { return "" }, Expiry: func() map[string]float64 { return nil }})
	var ok atomic.Bool
	ok.Store(true)
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	m.AddProcess(metrics.Build{Version: "v1.2.3", Revision: "abc123", GoVersion: "go1.26.8"}, func() (bool, time.Time) { return ok.Load(), at })
	body := scrape(t, m)
	for _, want := range []string{
		`ossd_build_info{goversion="go1.26.8",revision="abc123",version="v1.2.3"} 1`,
		"ossd_config_last_reload_success 1",
		"ossd_config_last_reload_timestamp_seconds 1.893456e+09",
		"go_goroutines ", "go_memstats_alloc_bytes ", "process_resident_memory_bytes ", "process_open_fds ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	ok.Store(false) // a rejected reload
	if body := scrape(t, m); !strings.Contains(body, "ossd_config_last_reload_success 0") {
		t.Errorf("after a rejected reload, scrape lacks ossd_config_last_reload_success 0")
	}
}
