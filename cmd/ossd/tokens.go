package main

import (
	"context"
	"os"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/paths"
	"github.com/ossd/ossd/internal/service"
	"github.com/ossd/ossd/internal/tokenstore"
)

// openTokens opens the store of tokens kept across restarts and has every
// fetch recorded in it, or returns nil when tokens are not kept: in dev
// mode (its STS lives and dies with the process), without a runtime
// directory, or when the directory is unsafe or not in memory (said once,
// in the log). Call it before the first fetch.
func (d *daemon) openTokens() *tokenstore.Store {
	if d.flags.dev {
		return nil
	}
	dir := paths.RuntimeDir(os.Getenv, os.Geteuid())
	if dir == "" {
		d.log.Info("tokens are not kept across restarts: no runtime directory ($" + paths.EnvRuntimeDirectory + ", or $XDG_RUNTIME_DIR when not root)")
		return nil
	}
	s, err := tokenstore.Open(tokenstore.Options{
		Dir: dir, Cache: d.cache, Fingerprint: d.fetcher.p.Load().fingerprint,
		Floor: time.Duration(d.cfg.Refresh.Floor), MaxSessions: d.cfg.Server.MaxSessions,
		Clock: d.clk, Log: d.log.With("component", "tokenstore"),
	})
	if err != nil {
		d.log.Warn("tokens are not kept across restarts", "dir", dir, "err", err)
		return nil
	}
	d.fetcher.issued = s.Issued
	return s
}

// restoreTokens installs the kept tokens that still belong to rs (or to
// on-demand sessions of them) before the initial fetch, which then finds
// them valid and calls STS for none of them.
func (d *daemon) restoreTokens(rs []service.Role) {
	if d.tokens == nil {
		return
	}
	ps := make([]ossd.Params, len(rs))
	for i, r := range rs {
		ps[i] = r.Params
	}
	d.tokens.Load(ps, d.ref)
}

// keepTokens saves the tokens in the background after fetches, at most
// every tokenstore.SaveEvery, so that a crash loses little.
func (d *daemon) keepTokens(ctx context.Context, g *errgroup.Group) {
	if d.tokens != nil {
		g.Go(func() error { return d.tokens.Run(ctx) })
	}
}

// saveTokens saves the tokens once the daemon has stopped serving and
// renewing, for the next start.
func (d *daemon) saveTokens() {
	if d.tokens == nil {
		return
	}
	if err := d.tokens.Save(); err != nil {
		d.log.Warn("saving kept tokens at shutdown failed; the next start fetches them", "err", err)
		return
	}
	d.log.Info("kept tokens saved", "file", d.tokens.Path())
}
