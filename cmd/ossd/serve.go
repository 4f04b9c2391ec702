package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ossd/ossd/cache"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/internal/logging"
	"github.com/ossd/ossd/internal/paths"
	"github.com/ossd/ossd/internal/service"
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

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseServeFlags(args, stderr)
	if err != nil {
		return err
	}
	var (
		cfg      *config.Config
		fetcher  *sts.Client
		warnings []string
	)
	clk := clock.Real{}
	if f.dev {
		d, err := startDev(clk)
		if err != nil {
			return err
		}
		defer d.sts.Close()
		cfg, fetcher = d.cfg, d.client
	} else {
		loaded, err := config.Load(f.config)
		if err != nil {
			return err
		}
		cfg, warnings = loaded.Config, loaded.Warnings
		if fetcher, err = newSTSClient(cfg, filepath.Dir(f.config), clk); err != nil {
			return err
		}
	}
	log, err := logging.New(stderr, cfg.Log.Level, cfg.Log.Format)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		log.Warn(w)
	}
	path := paths.Socket(f.socket, cfg.Server.Socket, os.Getenv, os.Geteuid())
	ln, err := socket.Listen(path, socket.ListenOptions{Mode: cfg.Server.FileMode(), GID: lookupGroup(cfg.Server.SocketGroup, log)})
	if err != nil {
		return err
	}
	defer ln.Close()

	c := cache.New(cfg.Server.MaxSessions)
	ref := refresher.New(refresher.Options{
		Fetcher: fetcher, Cache: c, Clock: clk, Log: log,
		Floor: time.Duration(cfg.Refresh.Floor), HardMin: time.Duration(cfg.Refresh.HardMinimum),
		MaxQPS: cfg.STS.MaxQPS, Timeout: time.Duration(cfg.STS.Timeout),
	})
	svc := service.New(ref, c, clk, log)
	srv := socket.New(socket.Options{Service: svc, Log: log})

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return srv.Serve(gctx, ln) })
	for name, err := range svc.Apply(gctx, roles(cfg)) {
		log.Error("initial fetch failed; will retry", "role", name, "code", errCode(err), "err", err)
	}
	g.Go(func() error { return ref.Run(gctx) })
	log.Info("serving", "socket", path, "roles", svc.Names())
	if f.dev {
		printDevBanner(stdout, path, cfg)
	}
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	log.Info("stopped")
	return err
}

func roles(cfg *config.Config) []service.Role {
	out := make([]service.Role, 0, len(cfg.Roles))
	for _, r := range cfg.Roles {
		out = append(out, service.Role{Name: r.Name, Params: r.Params()})
	}
	return out
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
