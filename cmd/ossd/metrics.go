package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/audit"
	"github.com/ossd/ossd/internal/metrics"
	"github.com/ossd/ossd/internal/version"
	"github.com/ossd/ossd/refresher"
	"github.com/ossd/ossd/socket"
)

// newMetrics returns the daemon's metrics, or nil when [metrics] listen is
// empty. Role names come from the service at scrape time, and become
// labels only with [metrics] role_labels; the audit log's state is read
// at scrape time too.
func (d *daemon) newMetrics() *metrics.Metrics {
	if d.cfg.Metrics.Listen == "" {
		return nil
	}
	roleOf := func(k ossd.Key) string { return d.svc.NameOf(k) }
	expiry := func() map[string]float64 {
		out := map[string]float64{}
		for _, st := range d.svc.Status() {
			out[st.Name] = st.ExpiresIn
		}
		return out
	}
	m := metrics.New(metrics.Options{RoleOf: roleOf, Expiry: expiry, RoleLabels: d.cfg.Metrics.RoleLabels,
		Audit: func() audit.State { return d.audit.State() }})
	v := version.Get()
	m.AddProcess(metrics.Build{Version: v.Version, Revision: v.Revision, GoVersion: v.GoVersion}, func() (bool, time.Time) {
		if l := d.reloads.Last(); l != nil {
			return l.OK, l.Time
		}
		return false, time.Time{}
	})
	// d.ref exists by the time anything scrapes.
	m.AddSTS(func() time.Duration { return d.ref.ClockOffset() }, func() float64 { return d.ref.Rate() })
	return m
}

// observer returns d.metrics as a refresher observer, or nil.
func (d *daemon) observer() refresher.Observer {
	if d.metrics == nil {
		return nil
	}
	return d.metrics
}

// socketOnRequest counts socket API requests when metrics are on.
func (d *daemon) socketOnRequest() func(string, int) {
	if d.metrics == nil {
		return nil
	}
	return func(route string, status int) { d.metrics.Request("socket", route, status) }
}

// startMetrics serves GET /metrics on [metrics] listen.
func (d *daemon) startMetrics(ctx context.Context, g *errgroup.Group) error {
	if d.metrics == nil {
		return nil
	}
	ln, err := net.Listen("tcp", d.cfg.Metrics.Listen)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", d.metrics.Handler())
	mux.Handle("GET /readyz", d.readyHandler(false))
	mux.Handle("GET /healthz", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) }))
	srv := socket.NewHTTPServer(mux)
	g.Go(func() error {
		<-ctx.Done()
		return srv.Close()
	})
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("metrics: %w", err)
		}
		return nil
	})
	d.log.Info("metrics", "listen", ln.Addr().String())
	return nil
}
