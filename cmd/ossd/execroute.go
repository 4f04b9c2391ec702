package main

import (
	"context"

	"golang.org/x/sync/errgroup"

	"github.com/ossd/ossd/execuri"
)

// startExec creates the registry of exec-scoped credentials URIs (ossd
// exec), which the socket API registers into and the credentials-URI
// endpoint reads, and runs it in g until ctx ends.
func (d *daemon) startExec(ctx context.Context, g *errgroup.Group) *execuri.Registry {
	reg := execuri.New(execuri.Options{
		Prepare: d.svc.Prepare,
		URL: func(token string) (string, bool) {
			u := d.uri.p.Load()
			if u == nil {
				return "", false
			}
			return u.ExecURL(token), true
		},
		Audit: d.audit, Refusals: d.refusals, Log: d.log,
	})
	g.Go(func() error { return reg.Run(ctx) })
	return reg
}
