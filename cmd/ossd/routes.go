package main

import (
	"net/http"

	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/internal/ready"
	"github.com/ossd/ossd/presign"
)

// presignRoutes returns POST /v1/presign. It signs with the presign policy
// of the config in force (so a reload takes effect at once) and audits to
// the daemon's audit log.
func (d *daemon) presignRoutes() map[string]http.Handler {
	s := presign.New(presign.Options{
		Credentials: d.svc, Audit: d.audit, Refusals: d.refusals, Clock: d.clk, Log: d.log,
		Roles: func(name string) (config.Role, bool) { return d.running.Load().Role(name) },
	})
	return s.Routes()
}

// socketRoutes returns the socket API's routes beyond credentials and roles.
func (d *daemon) socketRoutes() map[string]http.Handler {
	routes := d.presignRoutes()             // /v1/presign
	routes["/v1/uri/{role}"] = d.uriRoute() // metadata.go
	routes["/readyz"] = d.readyHandler(true)
	return routes
}

// readyHandler serves GET /readyz. On the socket (perCaller) a caller sees
// by name only the roles it may have; the metrics listener, whose metrics
// name every role already, shows them all.
func (d *daemon) readyHandler(perCaller bool) http.Handler {
	return ready.Handler(func(r *http.Request) ready.Report {
		var visible func(string) bool
		if perCaller {
			mine := map[string]bool{}
			for _, n := range d.svc.NamesFor(r.Context()) {
				mine[n] = true
			}
			visible = func(n string) bool { return mine[n] }
		}
		rep := ready.Check(d.roleStates(), visible, d.reloads.Last())
		rep.STS = &ready.STS{ClockOffsetSeconds: d.ref.ClockOffset().Seconds(), RateLimit: d.ref.Rate(), MaxQPS: d.cfg.STS.MaxQPS}
		return rep
	})
}
