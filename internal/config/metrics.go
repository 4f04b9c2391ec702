package config

import (
	"net"
	"strconv"
)

// Metrics configures the opt-in Prometheus listener ([metrics]).
type Metrics struct {
	// Listen is host:port for GET /metrics; empty disables metrics. Loopback
	// unless AllowNonLoopback: metrics name roles and error rates.
	Listen           string `toml:"listen"`
	AllowNonLoopback bool   `toml:"allow_non_loopback"`
	// RoleLabels gives each configured role its own series, labelled with
	// its name. Off by default: the listener is loopback TCP, which every
	// local user can reach, and role names are what the socket API hides
	// from callers who may not have them. Off, the per-role series are
	// aggregated over all roles.
	RoleLabels bool `toml:"role_labels"`
}

func (m Metrics) validate(p *problems) {
	if m.Listen == "" {
		return
	}
	host, port, err := net.SplitHostPort(m.Listen)
	if err != nil {
		p.addf("metrics.listen", "%s: want host:port", quote(m.Listen))
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		p.addf("metrics.listen", "port %s: want 0..65535", quote(port))
	}
	ip := net.ParseIP(host)
	if host == "localhost" || (ip != nil && ip.IsLoopback()) || m.AllowNonLoopback {
		return
	}
	p.addf("metrics.listen", "%s is not a loopback address; set metrics.allow_non_loopback = true to expose metrics beyond this host", quote(host))
}
