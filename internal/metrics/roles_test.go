package metrics_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/audit"
	"github.com/ossd/ossd/internal/localsts"
	"github.com/ossd/ossd/internal/metrics"
	"github.com/ossd/ossd/internal/testenv"
)

// TestNoRoleNamesWithoutRoleLabels: with role_labels = false, which any
// local user can scrape, no configured role name appears anywhere in
// /metrics, whatever the roles went through; the per-role series are
// aggregated instead.
func TestNoRoleNamesWithoutRoleLabels(t *testing.T) {
	roles := []string{"payroll-exporter", "hr-backup"}
	l := &lazy{}
	m := metrics.New(metrics.Options{RoleOf: func(k ossd.Key) string { return l.svc.NameOf(k) }, Expiry: l.expiry})
	env := testenv.New(t, testenv.Options{Observer: m}, roles...)
	l.svc = env.Service
	ctx := context.Background()
	rs := testenv.Roles(roles...)
	rs[1].Params.Duration = 2 * time.Hour
	env.Service.Apply(ctx, rs)
	env.Clock.Advance(10 * time.Minute)
	env.STS.FailNext(2, localsts.Fault{Code: "Throttling.User"})
	env.Service.Credentials(ctx, roles[0], "job")      // on-demand sessions that fail
	env.Service.Credentials(ctx, roles[1], "job")      //
	env.Service.Credentials(ctx, roles[0], "")         // a hit
	m.Request("socket", "/v1/credentials/{role}", 403) // route patterns, not names
	m.Denied("tcp 127.0.0.1:8100", "AccessDenied")

	body := scrape(t, m)
	for _, r := range roles {
		if strings.Contains(body, r) {
			t.Errorf("/metrics names role %q:\n%s", r, body)
		}
	}
	if strings.Contains(body, `role="`) {
		t.Errorf("/metrics has a role label:\n%s", body)
	}
	for _, want := range []string{
		"ossd_refresh_failures_total 2\n",
		"ossd_credentials_expiry_seconds 3000\n", // the soonest of 3000 and 6600
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q:\n%s", want, body)
		}
	}
}

func TestAuditMetrics(t *testing.T) {
	var ok atomic.Bool
	ok.Store(true)
	var failures atomic.Int64
	m := metrics.New(metrics.Options{Audit: func() audit.State { return audit.State{OK: ok.Load(), Failures: failures.Load()} }})
	if body := scrape(t, m); !strings.Contains(body, "ossd_audit_ok 1\n") || !strings.Contains(body, "ossd_audit_write_failures_total 0\n") {
		t.Errorf("healthy audit log:\n%s", body)
	}
	ok.Store(false)
	failures.Store(7)
	if body := scrape(t, m); !strings.Contains(body, "ossd_audit_ok 0\n") || !strings.Contains(body, "ossd_audit_write_failures_total 7\n") {
		t.Errorf("failing audit log:\n%s", body)
	}
}
