package metrics

import (
	"math"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ossd/ossd/internal/audit"
)

// expiryCollector reports seconds until expiry, read at scrape time so the
// value is never stale: per configured role with role labels, else the
// soonest over all roles.
type expiryCollector struct {
	desc   *prometheus.Desc
	expiry func() map[string]float64
	byRole bool
}

func newExpiryCollector(expiry func() map[string]float64, byRole bool) *expiryCollector {
	c := &expiryCollector{expiry: expiry, byRole: byRole}
	if byRole {
		c.desc = prometheus.NewDesc("ossd_credentials_expiry_seconds", "Seconds until the cached token of each configured role expires.", []string{"role"}, nil)
	} else {
		c.desc = prometheus.NewDesc("ossd_credentials_expiry_seconds", "Seconds until the soonest-expiring cached token of any configured role expires.", nil, nil)
	}
	return c
}

func (c *expiryCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *expiryCollector) Collect(ch chan<- prometheus.Metric) {
	if c.expiry == nil {
		return
	}
	soonest := math.Inf(1)
	for role, secs := range c.expiry() {
		if c.byRole {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, secs, role)
		}
		soonest = min(soonest, secs)
	}
	if !c.byRole && !math.IsInf(soonest, 1) {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, soonest)
	}
}

// auditCollectors report the audit log's health, read at scrape time.
func auditCollectors(state func() audit.State) []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "ossd_audit_write_failures_total", Help: "Audit lines that could not be written (the actions they recorded were refused unless [audit] required = false).",
		}, func() float64 { return float64(state().Failures) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "ossd_audit_ok", Help: "1 while the audit log is written, 0 while it cannot be.",
		}, func() float64 {
			if state().OK {
				return 1
			}
			return 0
		}),
	}
}
