package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/user"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ossd/ossd/cache"
	"github.com/ossd/ossd/internal/access"
	"github.com/ossd/ossd/internal/audit"
	"github.com/ossd/ossd/internal/chain"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/internal/harden"
	"github.com/ossd/ossd/internal/logging"
	"github.com/ossd/ossd/internal/metrics"
	"github.com/ossd/ossd/internal/paths"
	"github.com/ossd/ossd/internal/service"
	"github.com/ossd/ossd/internal/sessionname"
	"github.com/ossd/ossd/internal/sts"
	"github.com/ossd/ossd/refresher"
	"github.com/ossd/ossd/socket"
)

type serveFlags struct {
	config string
	socket string
	dev    bool
}

func parseServeFlags(args []string, stderr io.Writer) (serveFlags, error) {
	var f serveFlags
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.config, "config", "", "config file (TOML)")
	fs.StringVar(&f.socket, "socket", "", "Unix socket path (overrides $OSSD_SOCKET and [server] socket)")
	fs.BoolVar(&f.dev, "dev", false, "run with an embedded local STS and a demo role; credentials are fake")
	if err := fs.Parse(args); err != nil {
		return f, usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return f, usageError{fmt.Sprintf("serve: unexpected argument %q", fs.Arg(0))}
	}
	if f.dev == (f.config != "") {
		return f, usageError{"serve: give exactly one of --config FILE or --dev"}
	}
	return f, nil
}

// daemon is what serve wires together. Front ends (the socket API, metadata
// listeners, the credentials URI) each get it and add their goroutines to g.
type daemon struct {
	cfg     *config.Config
	flags   serveFlags
	clk     clock.Clock
	log     *slog.Logger
	cache   *cache.Cache
	ref     *refresher.Refresher
	svc     *service.Service
	metrics *metrics.Metrics // nil unless [metrics] listen is set
	audit   *audit.Logger    // [audit] file, or stderr

	group  *errgroup.Group        // the serving goroutines; reload adds listeners to it
	md     map[string]*mdListener // running metadata listeners by configured address; run and reload only
	stdout io.Writer

	inherited map[string][]net.Listener // sockets systemd passed, by name; front ends take theirs (systemd.go)
	starting  chan struct{}             // closed by started; front ends serve after it (systemd.go)

	level   slog.LevelVar                 // changed by reload
	fetcher swapFetcher                   // replaced by every reload: key files are read again
	cfgDir  string                        // the config file's directory, for the files it names
	watcher *config.Watcher               // the config watch; nil in --dev
	running atomic.Pointer[config.Config] // the config in force; replaced by reload
	uri     uriState                      // the credentials-URI endpoint, for GET /v1/uri (metadata.go)
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseServeFlags(args, stderr)
	if err != nil {
		return err
	}
	// Before any secret is read: no core dumps, no ptrace or /proc/<pid>/mem
	// by processes of the same user.
	if err := harden.Process(); err != nil {
		return err
	}
	d := &daemon{flags: f, clk: clock.Real{}, stdout: stdout}
	var (
		client   *sts.Client
		warnings []string
	)
	if f.dev {
		dv, err := startDev(d.clk)
		if err != nil {
			return err
		}
		defer dv.sts.Close()
		d.cfg, client = dv.cfg, dv.client
	} else {
		loaded, err := config.Load(f.config)
		if err != nil {
			return err
		}
		d.cfg, warnings, d.cfgDir = loaded.Config, loaded.Warnings, loaded.Dir
		if client, err = newSTSClient(d.cfg, loaded.Dir, d.clk); err != nil {
			return err
		}
	}
	d.fetcher.p.Store(client)
	d.running.Store(d.cfg)
	lv, err := logging.ParseLevel(d.cfg.Log.Level)
	if err != nil {
		return err
	}
	d.level.Set(lv)
	if d.log, err = logging.NewVar(stderr, &d.level, d.cfg.Log.Format); err != nil {
		return err
	}
	for _, w := range warnings {
		d.log.Warn(w)
	}
	d.cache = cache.New(d.cfg.Server.MaxSessions)
	d.metrics = d.newMetrics()
	fetcher := chain.New(&d.fetcher, d.clk, d.log) // source_role: a parent's credentials come from d.ref
	d.ref = refresher.New(refresher.Options{
		Fetcher: fetcher, Cache: d.cache, Clock: d.clk, Log: d.log, Observer: d.observer(),
		Floor: time.Duration(d.cfg.Refresh.Floor), HardMin: time.Duration(d.cfg.Refresh.HardMinimum),
		MaxQPS: d.cfg.STS.MaxQPS, Timeout: time.Duration(d.cfg.STS.Timeout),
	})
	fetcher.Bind(d.ref)
	d.svc = service.New(d.ref, d.cache, d.clk, d.log)
	al, closer, err := audit.Open(d.cfg.Audit.File, stderr, d.clk)
	if err != nil {
		return err
	}
	defer closer.Close()
	d.audit = al
	d.svc.SetAudit(al)
	return d.run(ctx)
}

// run opens the listeners, fetches the configured roles, and serves until
// ctx ends.
func (d *daemon) run(ctx context.Context) error {
	rs, err := roles(d.cfg)
	if err != nil {
		return err
	}
	if err := d.startup(); err != nil { // systemd.go: sockets from systemd; serving waits for started
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	d.group = g
	if err := d.startReload(gctx, g); err != nil {
		return err
	}
	sock, err := d.startSocket(gctx, g)
	if err != nil {
		return err
	}
	if err := d.openMetadata(gctx, g); err != nil {
		return err
	}
	if err := d.startMetrics(gctx, g); err != nil {
		return err
	}
	d.closeUnusedSockets()
	d.warnOpenRoles(rs)
	// Serve from the first moment: the roles are pinned and their first
	// fetches scheduled, and a caller asking for one not fetched yet fetches
	// it at once, ahead of the rest. Failures are logged as they happen.
	d.svc.Install(rs)
	g.Go(func() error { return d.ref.Run(gctx) })
	if err := d.started(gctx, g, sock); err != nil { // systemd.go: serve, READY=1, status and watchdog
		return err
	}
	d.log.Info("serving", "socket", sock, "roles", d.svc.Names())
	if d.flags.dev {
		printDevBanner(d.stdout, sock, d.cfg)
	}
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	d.log.Info("stopped")
	return err
}

// startSocket listens on the Unix socket and serves the API on it.
func (d *daemon) startSocket(ctx context.Context, g *errgroup.Group) (string, error) {
	path := paths.Socket(d.flags.socket, d.cfg.Server.Socket, os.Getenv, os.Geteuid())
	lns, path, err := d.inheritedSocket(path) // systemd's socket, if it passed one
	if err != nil {
		return "", err
	}
	if lns == nil {
		ln, err := socket.Listen(path, socket.ListenOptions{Mode: d.cfg.Server.FileMode(), GID: lookupGroup(d.cfg.Server.SocketGroup, d.log)})
		if err != nil {
			return "", err
		}
		lns = []net.Listener{ln}
	}
	srv := socket.New(socket.Options{Service: d.svc, Log: d.log, Extra: d.socketRoutes(), OnRequest: d.socketOnRequest()})
	for _, ln := range lns {
		g.Go(func() error { d.awaitStarted(ctx); return srv.Serve(ctx, ln) })
	}
	return path, nil
}

// roles compiles the configured roles, their chains and access rules.
func roles(cfg *config.Config) ([]service.Role, error) {
	out := make([]service.Role, 0, len(cfg.Roles))
	for _, r := range cfg.Roles {
		rule, err := access.Compile(r.Allow, access.System())
		if err != nil {
			return nil, fmt.Errorf("role %s: %w", r.Name, err)
		}
		per, err := sessionname.ParsePer(r.SessionPer)
		if err != nil {
			return nil, fmt.Errorf("role %s: %w", r.Name, err)
		}
		out = append(out, service.Role{Name: r.Name, Params: cfg.RoleParams(r), Allow: rule, SessionPer: per})
	}
	return out, nil
}

// warnOpenRoles names the roles anyone who reaches a listener may have.
func (d *daemon) warnOpenRoles(rs []service.Role) {
	for _, r := range rs {
		if r.Allow.Open() {
			d.log.Warn("role has no [role.allow] rules: any local process that can reach a listener serving it gets its credentials", "role", r.Name)
		}
	}
}

// lookupGroup resolves the socket's group; "" leaves it alone.
func lookupGroup(name string, log *slog.Logger) int {
	if name == "" {
		return -1
	}
	if gid, err := strconv.Atoi(name); err == nil {
		return gid
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		log.Warn("socket group not found; leaving the socket's group alone", "group", name)
		return -1
	}
	gid, _ := strconv.Atoi(g.Gid) // Gid is numeric on Unix
	return gid
}
