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
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/ossd/ossd/cache"
	"github.com/ossd/ossd/execuri"
	"github.com/ossd/ossd/internal/access"
	"github.com/ossd/ossd/internal/audit"
	"github.com/ossd/ossd/internal/chain"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/internal/harden"
	"github.com/ossd/ossd/internal/logging"
	"github.com/ossd/ossd/internal/metrics"
	"github.com/ossd/ossd/internal/paths"
	"github.com/ossd/ossd/internal/peer"
	"github.com/ossd/ossd/internal/preflight"
	"github.com/ossd/ossd/internal/ratelimit"
	"github.com/ossd/ossd/internal/ready"
	"github.com/ossd/ossd/internal/refusal"
	"github.com/ossd/ossd/internal/service"
	"github.com/ossd/ossd/internal/sessionname"
	"github.com/ossd/ossd/internal/tokenstore"
	"github.com/ossd/ossd/internal/version"
	"github.com/ossd/ossd/refresher"
	"github.com/ossd/ossd/socket"
)

type serveFlags struct {
	config string
	socket string
	dev    bool
}

const (
	serveSynopsis = "ossd serve --config FILE [--socket PATH] | ossd serve --dev [--config FILE] [--socket PATH]"
	serveAbout    = `Runs the daemon. --config FILE serves the roles, listeners and rules of FILE.
--dev runs an embedded local STS that issues FAKE credentials: alone, with a
demo role; with --config FILE, with FILE's roles, listeners and rules, its
STS endpoint and source credential replaced by the local STS.`
)

func parseServeFlags(args []string, stdout io.Writer) (serveFlags, error) {
	var f serveFlags
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&f.config, "config", "", "config file (TOML)")
	fs.StringVar(&f.socket, "socket", "", "Unix socket path, absolute (overrides $OSSD_SOCKET and [server] socket)")
	fs.BoolVar(&f.dev, "dev", false, "run against an embedded local STS; credentials are fake")
	pos, err := parseArgs(fs, args, serveSynopsis, serveAbout, stdout)
	if err != nil {
		return f, err
	}
	if err := wantArgs(fs, pos, 0, serveSynopsis); err != nil {
		return f, err
	}
	if !f.dev && f.config == "" {
		return f, usageError{"serve: give --config FILE, or --dev\nusage: " + serveSynopsis}
	}
	if f.socket != "" && !filepath.IsAbs(f.socket) {
		return f, usageError{fmt.Sprintf("serve: --socket %q must be an absolute path", f.socket)}
	}
	return f, nil
}

// daemon is what serve wires together. Front ends (the socket API, metadata
// listeners, the credentials URI) each get it and add their goroutines to g.
type daemon struct {
	cfg      *config.Config
	flags    serveFlags
	clk      clock.Clock
	log      *slog.Logger
	cache    *cache.Cache
	ref      *refresher.Refresher
	svc      *service.Service
	metrics  *metrics.Metrics   // nil unless [metrics] listen is set
	audit    *audit.Logger      // [audit] file, or stderr
	refusals *refusal.Recorder  // groups repeated refusals in the audit and operational logs
	limit    *ratelimit.Limiter // [server] rate_per_uid, shared by every listener
	tokens   *tokenstore.Store  // tokens kept across restarts; nil when not kept (tokens.go)
	peers    *peer.Finder       // identifies the callers of every listener

	group   *errgroup.Group        // the serving goroutines; reload adds listeners to it
	md      map[string]*mdListener // running metadata listeners by configured address; run and reload only
	stdout  io.Writer
	devFile string // serve --dev --config FILE: the file whose roles run against the local STS

	inherited map[string][]net.Listener // sockets systemd passed, by name; front ends take theirs (systemd.go)
	starting  chan struct{}             // closed by started; front ends serve after it (systemd.go)

	level   slog.LevelVar                 // changed by reload
	fetcher swapFetcher                   // replaced by every reload: key files are read again
	cfgDir  string                        // the config file's directory, for the files it names
	watcher *config.Watcher               // the config watch; nil in --dev
	running atomic.Pointer[config.Config] // the config in force; replaced by reload
	uri     uriState                      // the credentials-URI endpoint, for GET /v1/uri (metadata.go)
	reloads ready.Reloads                 // the last config load, for status, /readyz and metrics
	execs   *execuri.Registry             // exec-scoped URIs (ossd exec); set by startSocket
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseServeFlags(args, stdout)
	if err != nil {
		return err
	}
	// Before any secret is read: no core dumps, no ptrace or /proc/<pid>/mem
	// by processes of the same user.
	if err := harden.Process(); err != nil {
		return err
	}
	d := &daemon{flags: f, clk: clock.Real{}, stdout: stdout}
	client, warnings, cleanup, err := d.loadConfig()
	if err != nil {
		return err
	}
	defer cleanup()
	d.reloads.Record(d.clk.Now(), "start", nil)
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
	v := version.Get()
	d.log.Info("ossd starting", "version", v.Version, "revision", v.Revision, "vcs_time", v.Time, "modified", v.Modified, "go", v.GoVersion)
	for _, w := range warnings {
		d.log.Warn(w)
	}
	d.peers = peer.New(peer.Options{Log: d.log})
	defer d.peers.Close()
	d.cache = cache.New(d.cfg.Server.MaxSessions)
	d.metrics = d.newMetrics()
	fetcher := chain.New(&d.fetcher, d.clk, d.log) // source_role: a parent's credentials come from d.ref
	d.ref = refresher.New(refresher.Options{
		Fetcher: fetcher, Cache: d.cache, Clock: d.clk, Log: d.log, Observer: d.observer(),
		Floor: time.Duration(d.cfg.Refresh.Floor), HardMin: time.Duration(d.cfg.Refresh.HardMinimum),
		MaxQPS: d.cfg.STS.MaxQPS, Timeout: time.Duration(d.cfg.STS.Timeout),
		OutageMargin: orNone(d.cfg.Refresh.OutageMargin), Spread: orNone(d.cfg.Refresh.Spread),
		StartSpread: time.Duration(d.cfg.Refresh.StartSpread),
	})
	fetcher.Bind(d.ref)
	d.tokens = d.openTokens()
	d.svc = service.New(d.ref, d.cache, d.clk, d.log)
	d.svc.SetHardMinimum(time.Duration(d.cfg.Refresh.HardMinimum))
	al, closer, err := d.openAudit(stderr)
	if err != nil {
		return err
	}
	defer closer.Close()
	d.setAudit(al)
	return d.run(ctx)
}

// openAudit opens the audit log: [audit] file, whose failure stops the
// start, else $LOGS_DIRECTORY/audit.log under systemd. The default falls
// back to stderr (the journal) with a warning when it cannot be opened,
// for example below a /var/log that the path rule refuses because its
// group may write to it (Ubuntu's root:syslog 0775).
func (d *daemon) openAudit(stderr io.Writer) (*audit.Logger, io.Closer, error) {
	path := d.cfg.Audit.Path(os.Getenv)
	al, closer, err := audit.Open(path, stderr, d.clk)
	if err != nil && d.cfg.Audit.File == "" && path != "" {
		d.log.Warn("default audit log unusable; auditing to stderr: set [audit] file", "path", path, "err", err)
		return audit.Open("", stderr, d.clk)
	}
	return al, closer, err
}

// loadConfig reads and checks the config (preflight, as config check
// does) and builds the STS client. With --dev it starts the embedded local
// STS, which cleanup stops.
func (d *daemon) loadConfig() (*upstream, []string, func(), error) {
	var loaded *config.Loaded
	if d.flags.config != "" {
		var err error
		if loaded, err = preflight.Load(d.flags.config, preflight.Options{NoSource: d.flags.dev}); err != nil {
			return nil, nil, nil, err
		}
	}
	if d.flags.dev {
		var base *config.Config
		if loaded != nil {
			base = loaded.Config
		}
		dv, err := startDev(d.clk, d.flags.config, base)
		if err != nil {
			return nil, nil, nil, err
		}
		d.cfg, d.devFile = dv.cfg, dv.file
		var warnings []string
		if loaded != nil {
			warnings = loaded.Warnings
		}
		return &upstream{Client: dv.client}, warnings, func() { dv.sts.Close() }, nil
	}
	d.cfg, d.cfgDir = loaded.Config, loaded.Dir
	client, err := newSTSClient(d.cfg, loaded.Dir, d.clk)
	if err != nil {
		return nil, nil, nil, err
	}
	return client, loaded.Warnings, func() {}, nil
}

// setAudit wires the audit log, the refusal recorder and the per-uid rate
// limit: what is written, and when, under the [audit] and [server] settings.
func (d *daemon) setAudit(al *audit.Logger) {
	al.SetPolicy(audit.Policy{Optional: !d.cfg.Audit.Required, Log: d.log})
	d.audit = al
	var count func(listener, code string)
	if d.metrics != nil {
		count = d.metrics.Denied
	}
	d.refusals = refusal.New(refusal.Options{Audit: al, Log: d.log, Clock: d.clk, Count: count,
		Known: func(role string) bool { _, ok := d.svc.Lookup(role); return ok }})
	d.limit = ratelimit.New(ratelimit.Options{Rate: rate.Limit(d.cfg.Server.RatePerUID), Burst: d.cfg.Server.BurstPerUID,
		Clock: d.clk, OnLimited: d.refusals.Limited})
	d.svc.SetAudit(al, d.refusals)
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
	d.restoreTokens(rs) // before the first fetches, which then skip them
	// Serve from the first moment: the roles are pinned and their first
	// fetches scheduled, and a caller asking for one not fetched yet fetches
	// it at once, ahead of the rest. Failures are logged as they happen.
	d.svc.Install(rs)
	g.Go(func() error { return d.ref.Run(gctx) })
	d.keepTokens(gctx, g)
	g.Go(func() error { return d.refusals.Run(gctx) })
	// Only in a benchmark build: a heap profile on SIGUSR1.
	benchHook(gctx, d)
	if err := d.started(gctx, g, sock); err != nil { // systemd.go: serve, READY=1, status and watchdog
		return err
	}
	d.log.Info("serving", "socket", sock, "roles", d.svc.Names())
	if d.flags.dev {
		printDevBanner(d.stdout, sock, d.devFile, d.cfg)
	}
	err = g.Wait()
	d.refusals.Flush() // what the last requests, served after Run ended, were refused
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	d.saveTokens()
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
	d.execs = d.startExec(ctx, g) // execroute.go
	srv := socket.New(socket.Options{Service: d.svc, Log: d.log, Extra: d.socketRoutes(), OnRequest: d.socketOnRequest(), Exec: d.execs, Peers: d.peers,
		Limit: d.limit, Refusals: d.refusals})
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

// orNone converts a config duration for refresher.Options, where zero
// means the refresher's default and a negative value none: in the config
// a zero is always meant as none (the defaults are filled in by Parse).
func orNone(d config.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return time.Duration(d)
}
