package main

import (
	"context"
	"os"
	"os/signal"
	"reflect"
	"sync/atomic"
	"syscall"

	"golang.org/x/sync/errgroup"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/internal/logging"
	"github.com/ossd/ossd/internal/preflight"
)

// swapFetcher lets a reload replace the STS client (a new source credential
// or endpoint) under a running refresher. It tells issued, when set, which
// STS issued each token (the token store keeps tokens with their source).
type swapFetcher struct {
	p      atomic.Pointer[upstream]
	issued func(accessKeyID, fingerprint string) // nil: nobody asks; set before serving
}

func (f *swapFetcher) Fetch(ctx context.Context, p ossd.Params) (ossd.Credentials, error) {
	u := f.p.Load()
	c, err := u.Fetch(ctx, p)
	return c, f.record(u, c, err)
}

// FetchWith makes a chained call (source_role) through the current client.
func (f *swapFetcher) FetchWith(ctx context.Context, by ossd.Credentials, p ossd.Params) (ossd.Credentials, error) {
	u := f.p.Load()
	c, err := u.FetchWith(ctx, by, p)
	return c, f.record(u, c, err)
}

// record tells issued that u issued c, and returns err.
func (f *swapFetcher) record(u *upstream, c ossd.Credentials, err error) error {
	if err == nil && f.issued != nil {
		f.issued(c.AccessKeyID, u.fingerprint)
	}
	return err
}

// startReload reloads the config when its file changes (watched through its
// directory, debounced) and on SIGHUP. The watch is in place when it
// returns, so no change made after start-up is missed.
func (d *daemon) startReload(ctx context.Context, g *errgroup.Group) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	changed := make(chan struct{}, 1)
	if !d.flags.dev {
		w, err := config.NewWatcher(d.flags.config)
		if err != nil {
			signal.Stop(hup)
			return err
		}
		d.watcher = w
		d.watchFiles(d.cfg)
		g.Go(func() error {
			defer w.Close()
			return w.Run(ctx, config.DefaultDebounce, d.clk, func() {
				select {
				case changed <- struct{}{}:
				default: // a reload is already pending
				}
			})
		})
	}
	g.Go(func() error {
		defer signal.Stop(hup)
		d.awaitStarted(ctx) // changes seen during start-up wait here, queued
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-hup:
				d.reload(ctx, "SIGHUP")
			case <-changed:
				d.reload(ctx, "file changed")
			}
		}
	})
	return nil
}

// reload applies the config file if it is valid. An invalid file changes
// nothing: the running config stays, and the log says exactly what is wrong.
func (d *daemon) reload(ctx context.Context, why string) {
	if d.flags.dev {
		d.log.Info("dev mode has no config file to reload", "why", why)
		return
	}
	loaded, err := preflight.Load(d.flags.config, preflight.Options{}) // as serve and config check
	if err != nil {
		d.rejectReload(why, err)
		return
	}
	next, prev := loaded.Config, d.running.Load()
	rs, err := roles(next)
	if err != nil {
		d.rejectReload(why, err)
		return
	}
	// The source's key files are read again on every reload, whether or not
	// their paths changed: rotating a key means writing the file and
	// sending SIGHUP (or just writing it: the watch sees key files too).
	client, err := newSTSClient(next, loaded.Dir, d.clk)
	if err != nil {
		d.rejectReload(why, err)
		return
	}
	d.fetcher.p.Store(client)
	d.cfgDir = loaded.Dir
	d.watchFiles(next)
	for _, w := range loaded.Warnings {
		d.log.Warn(w)
	}
	if lv, err := logging.ParseLevel(next.Log.Level); err == nil { // Load validated it
		d.level.Set(lv)
	}
	for _, s := range restartOnly(prev, next) {
		d.log.Warn("setting changed; it takes effect at the next restart", "setting", s)
	}
	added, removed, changed := config.Diff(prev, next)
	d.warnOpenRoles(rs)
	errs := d.svc.Apply(ctx, rs)
	d.reloadMetadata(ctx, next.Metadata)
	d.running.Store(next)
	d.reloads.Record(d.clk.Now(), why, nil)
	d.log.Info("config reloaded", "why", why, "added", added, "removed", removed, "changed", changed)
	for name, err := range errs {
		d.log.Error("fetch after reload failed; will retry", "role", name, "code", errCode(err), "err", err)
	}
}

// watchFiles makes the config watch follow cfg's file and the files it
// refers to. A file whose directory cannot be watched is still read on
// SIGHUP; the log says so.
func (d *daemon) watchFiles(cfg *config.Config) {
	if d.watcher == nil {
		return
	}
	if err := d.watcher.Watch(append([]string{d.flags.config}, cfg.Files(d.cfgDir)...)...); err != nil {
		d.log.Warn("not watching every file the config refers to; SIGHUP reloads them", "err", err)
	}
}

// rejectReload keeps the running config, logs why and records the
// rejection for status, /readyz and metrics.
func (d *daemon) rejectReload(why string, err error) {
	d.reloads.Record(d.clk.Now(), why, err)
	d.log.Warn("config reload rejected; the running config stays", "why", why, "err", err)
}

// restartOnly names the changed sections that a reload cannot apply.
func restartOnly(prev, next *config.Config) []string {
	var out []string
	for _, c := range []struct {
		name       string
		prev, next any
	}{
		{"server", prev.Server, next.Server},
		{"refresh", prev.Refresh, next.Refresh},
		{"sts.max_qps", prev.STS.MaxQPS, next.STS.MaxQPS}, // the rate limiter is built once
		{"sts.timeout", prev.STS.Timeout, next.STS.Timeout},
		{"log.format", prev.Log.Format, next.Log.Format},
		{"metrics", prev.Metrics, next.Metrics},
		{"uri", prev.URI, next.URI},
		{"audit", prev.Audit, next.Audit},
	} {
		if !reflect.DeepEqual(c.prev, c.next) {
			out = append(out, c.name)
		}
	}
	return out
}
