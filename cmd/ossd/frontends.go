package main

import (
	"context"
	"net/http"

	"golang.org/x/sync/errgroup"
)

// startMetadata opens the ECS-metadata-compatible and credentials-URI
// listeners.
func (d *daemon) startMetadata(ctx context.Context, g *errgroup.Group) error {
	return d.openMetadata(ctx, g)
}

// socketRoutes returns the socket API's routes beyond credentials and roles.
func (d *daemon) socketRoutes() map[string]http.Handler {
	routes := d.presignRoutes()             // routes.go: /v1/presign
	routes["/v1/uri/{role}"] = d.uriRoute() // metadata.go
	return routes
}
