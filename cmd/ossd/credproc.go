package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/cache"
	"github.com/ossd/ossd/internal/chain"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/internal/credproc"
	"github.com/ossd/ossd/internal/daemonid"
	"github.com/ossd/ossd/internal/paths"
	"github.com/ossd/ossd/internal/peer"
	"github.com/ossd/ossd/internal/sessionname"
	"github.com/ossd/ossd/refresher"
)

type credprocFlags struct {
	role    string
	socket  string
	session string
	direct  bool
	config  string
	timeout time.Duration
	daemon  daemonid.Want
}

const (
	credprocSynopsis = "ossd credential-process --role NAME [--session SUFFIX] [--socket PATH] [--timeout 10s] | --role NAME --direct --config FILE"
	credprocAbout    = `Prints one role's credentials as the single JSON object that the aliyun CLI
(External profiles), the SDKs' process providers and OSS v2 parse. Nothing
else goes to stdout. --direct assumes the role here, without a daemon.`
)

func parseCredprocFlags(args []string, stdout io.Writer) (credprocFlags, error) {
	var f credprocFlags
	fs := flag.NewFlagSet("credential-process", flag.ContinueOnError)
	fs.StringVar(&f.role, "role", "", "role name, as configured in the daemon (required)")
	fs.StringVar(&f.socket, "socket", "", "daemon socket (overrides $"+paths.EnvSocket+")")
	fs.StringVar(&f.session, "session", "", "session suffix: a separate STS session named <session_name>-SUFFIX")
	fs.BoolVar(&f.direct, "direct", false, "assume the role here, without a daemon (needs --config)")
	fs.StringVar(&f.config, "config", "", "config file for --direct")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Second, "give up after this long")
	daemon := daemonFlag(fs)
	pos, err := parseArgs(fs, args, credprocSynopsis, credprocAbout, stdout)
	if err != nil {
		return f, err
	}
	if f.daemon, err = daemon(); err != nil {
		return f, err
	}
	switch {
	case len(pos) > 0:
		return f, usageError{fmt.Sprintf("credential-process: unexpected argument %q", pos[0])}
	case f.role == "":
		return f, usageError{"credential-process: --role NAME is required"}
	case f.direct && f.config == "":
		return f, usageError{"credential-process: --direct needs --config FILE"}
	case !f.direct && f.config != "":
		return f, usageError{"credential-process: --config is only used with --direct; without it the daemon's socket is asked"}
	case f.direct && f.socket != "":
		return f, usageError{"credential-process: --socket and --direct exclude each other"}
	case f.timeout <= 0:
		return f, usageError{"credential-process: --timeout must be positive"}
	}
	return f, nil
}

// credentialProcess prints the credentials of one role as the single JSON
// object that the aliyun CLI, the SDKs' External providers and OSS v2's
// process provider parse (SPEC §4). Nothing else goes to stdout.
func credentialProcess(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseCredprocFlags(args, stdout)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	clk := clock.Real{}
	var c ossd.Credentials
	if f.direct {
		c, err = directCredentials(ctx, f, clk, stderr)
	} else {
		cl := credproc.Client{Socket: paths.Socket(f.socket, "", os.Getenv, os.Geteuid()), Clock: clk, Daemon: f.daemon}
		c, err = cl.Credentials(ctx, f.role, f.session)
	}
	if err != nil {
		return fmt.Errorf("credential-process --role %s: %w", f.role, err)
	}
	_, err = stdout.Write(credproc.AppendOutput(make([]byte, 0, 2048), c))
	return err
}

// directCredentials assumes the role itself, sharing the result with every
// other helper of this user through the private file cache.
func directCredentials(ctx context.Context, f credprocFlags, clk clock.Clock, stderr io.Writer) (ossd.Credentials, error) {
	abs, err := filepath.Abs(f.config)
	if err != nil {
		return ossd.Credentials{}, fmt.Errorf("config path: %w", err)
	}
	loaded, err := config.Load(abs)
	if err != nil {
		return ossd.Credentials{}, err
	}
	cfg := loaded.Config
	role, ok := cfg.Role(f.role)
	if !ok {
		return ossd.Credentials{}, fmt.Errorf("%w: %s has no role %q; it has: %s", ossd.ErrUnknownRole, abs, f.role, strings.Join(cfg.RoleNames(), ", "))
	}
	p, err := directParams(cfg, role, f.session)
	if err != nil {
		return ossd.Credentials{}, err
	}
	dir, err := credproc.CacheDir(os.Getenv)
	if err != nil {
		return ossd.Credentials{}, err
	}
	fc := credproc.FileCache{Dir: dir, Clock: clk, Floor: time.Duration(cfg.Refresh.Floor), HardMin: time.Duration(cfg.Refresh.HardMinimum)}
	key := credproc.CacheKey(abs, f.role, f.session, p.Key().String())
	c, err := fc.Get(ctx, key, func(ctx context.Context) (ossd.Credentials, error) {
		for _, w := range loaded.Warnings {
			fmt.Fprintln(stderr, "ossd: warning:", w)
		}
		client, err := newSTSClient(cfg, loaded.Dir, clk)
		if err != nil {
			return ossd.Credentials{}, err
		}
		fetcher := chain.New(client, clk, nil) // a chained role's parents are fetched here too
		ref := refresher.New(refresher.Options{
			Fetcher: fetcher, Cache: cache.New(1 + config.MaxChain), Clock: clk,
			Floor: time.Duration(cfg.Refresh.Floor), HardMin: time.Duration(cfg.Refresh.HardMinimum),
			MaxQPS: cfg.STS.MaxQPS, Timeout: time.Duration(cfg.STS.Timeout),
		})
		fetcher.Bind(ref)
		return ref.Get(ctx, p)
	})
	var de *credproc.DegradedError
	if errors.As(err, &de) {
		fmt.Fprintln(stderr, "ossd: warning:", de)
		return c, nil
	}
	return c, err
}

// directParams returns the parameters of the session --direct assumes:
// the role's, with its source roles, named after --session, or, for a role
// whose sessions are per caller, after this process, as the daemon would
// name them for it.
func directParams(cfg *config.Config, role config.Role, session string) (ossd.Params, error) {
	p := cfg.RoleParams(role)
	per, err := sessionname.ParsePer(role.SessionPer)
	if err != nil {
		return ossd.Params{}, err
	}
	switch {
	case per.PerCaller() && session != "":
		return ossd.Params{}, fmt.Errorf("--session %s: role %s gives each caller its own session (session_per = %q) and takes no suffix", session, role.Name, per)
	case per.PerCaller():
		if p.SessionName, err = sessionname.For(per, p.SessionName, peer.Self()); err != nil {
			return ossd.Params{}, fmt.Errorf("role %s: %w", role.Name, err)
		}
	case session != "":
		p.SessionName += "-" + session
		if err := config.ValidSessionName(p.SessionName); err != nil {
			return ossd.Params{}, fmt.Errorf("--session %s: %w", session, err)
		}
	}
	return p, nil
}
