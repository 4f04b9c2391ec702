package main

import (
	"net/http"

	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/presign"
)

// presignRoutes returns POST /v1/presign. It signs with the presign policy
// of the config in force (so a reload takes effect at once) and audits to
// the daemon's audit log.
func (d *daemon) presignRoutes() map[string]http.Handler {
	s := presign.New(presign.Options{
		Credentials: d.svc, Audit: d.audit, Clock: d.clk, Log: d.log,
		Roles: func(name string) (config.Role, bool) { return d.running.Load().Role(name) },
	})
	return s.Routes()
}

// socketRoutes returns the socket API's routes beyond credentials and roles.
func (d *daemon) socketRoutes() map[string]http.Handler {
	routes := d.presignRoutes()             // /v1/presign
	routes["/v1/uri/{role}"] = d.uriRoute() // metadata.go
	return routes
}
