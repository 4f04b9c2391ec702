package main

import (
	"context"
	"net/http"

	"golang.org/x/sync/errgroup"
)

// startMetadata opens the ECS-metadata-compatible and credentials-URI
// listeners.
func (d *daemon) startMetadata(ctx context.Context, g *errgroup.Group) error { return nil }

// socketRoutes returns the socket API's routes beyond credentials and roles.
func (d *daemon) socketRoutes() map[string]http.Handler { return nil }
