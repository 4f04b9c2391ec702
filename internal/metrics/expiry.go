package metrics

import "github.com/prometheus/client_golang/prometheus"

// expiryCollector reports seconds until expiry per configured role, read
// at scrape time so the value is never stale.
type expiryCollector struct {
	desc   *prometheus.Desc
	expiry func() map[string]float64
}

func newExpiryCollector(expiry func() map[string]float64) *expiryCollector {
	return &expiryCollector{
		desc:   prometheus.NewDesc("ossd_credentials_expiry_seconds", "Seconds until the cached token of each configured role expires.", []string{"role"}, nil),
		expiry: expiry,
	}
}

func (c *expiryCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *expiryCollector) Collect(ch chan<- prometheus.Metric) {
	if c.expiry == nil {
		return
	}
	for role, secs := range c.expiry() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, secs, role)
	}
}
