package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"

	"golang.org/x/sync/errgroup"

	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/metadata"
	"github.com/ossd/ossd/systemd"
)

// uriState holds the running credentials-URI endpoint, which the socket
// API's GET /v1/uri/{role} reads; nil while it is disabled.
type uriState struct {
	p atomic.Pointer[metadata.URIServer]
}

// mdListener is one running [[metadata]] listener. Its handler can be
// swapped by a reload without closing the listener.
type mdListener struct {
	cfg    config.Metadata
	srv    atomic.Pointer[metadata.Server]
	cancel context.CancelFunc
}

// openMetadata opens every [[metadata]] listener and the [uri] endpoint
// and serves them in g until ctx ends.
func (d *daemon) openMetadata(ctx context.Context, g *errgroup.Group) error {
	d.md = map[string]*mdListener{}
	for i, m := range d.cfg.Metadata {
		addr, err := d.addMetadata(ctx, g, m)
		if err != nil {
			return fmt.Errorf("metadata[%d]: %w", i, err)
		}
		if d.flags.dev {
			d.cfg.Metadata[i].Listen = addr // for the banner
		}
	}
	return d.openURI(ctx, g)
}

// addMetadata opens one listener and serves it in g; it returns the
// address it listens on.
func (d *daemon) addMetadata(ctx context.Context, g *errgroup.Group, m config.Metadata) (string, error) {
	ln, err := d.tcpListener(m.Listen, systemd.MetadataName)
	if err != nil {
		return "", err
	}
	lctx, cancel := context.WithCancel(ctx)
	l := &mdListener{cfg: m, cancel: cancel}
	l.srv.Store(d.newMetadataServer(m))
	d.md[m.Listen] = l
	d.log.Info("metadata listener", "addr", ln.Addr().String(), "role", m.Role, "imdsv2", tokensMode(m))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { l.srv.Load().ServeHTTP(w, r) })
	g.Go(func() error { d.awaitStarted(lctx); return metadata.Serve(lctx, ln, h, d.log, d.peers) })
	return ln.Addr().String(), nil
}

func (d *daemon) newMetadataServer(m config.Metadata) *metadata.Server {
	return metadata.New(metadata.Options{Source: d.svc, Role: m.Role, RequireToken: m.TokensRequired(), Clock: d.clk, Log: d.log,
		Limit: d.limit, Refusals: d.refusals})
}

func tokensMode(m config.Metadata) string {
	if m.TokensRequired() {
		return config.TokensRequired
	}
	return config.TokensOptional
}

// reloadMetadata brings the running listeners in line with list: a listener
// whose address is gone stops gracefully, a new address is opened, and a
// listener whose role or token mode changed keeps its socket and switches
// handler, so its connections are not dropped. Untouched listeners are left
// alone.
func (d *daemon) reloadMetadata(ctx context.Context, list []config.Metadata) {
	want := make(map[string]config.Metadata, len(list))
	for _, m := range list {
		want[m.Listen] = m
	}
	for addr, l := range d.md {
		if _, ok := want[addr]; !ok {
			l.cancel()
			delete(d.md, addr)
			d.log.Info("metadata listener closed", "addr", addr)
		}
	}
	for addr, m := range want {
		l, ok := d.md[addr]
		switch {
		case !ok:
			if _, err := d.addMetadata(ctx, d.group, m); err != nil {
				d.log.Error("metadata listener not opened", "addr", addr, "err", err)
			}
		case l.cfg != m:
			l.cfg = m
			l.srv.Store(d.newMetadataServer(m))
			d.log.Info("metadata listener changed", "addr", addr, "role", m.Role, "imdsv2", tokensMode(m))
		}
	}
}

func (d *daemon) openURI(ctx context.Context, g *errgroup.Group) error {
	if d.cfg.URI.Listen == "" {
		return nil
	}
	key, dir, err := d.uriKey()
	if err != nil {
		return fmt.Errorf("uri: %w", err)
	}
	ln, err := d.tcpListener(d.cfg.URI.Listen, "")
	if err != nil {
		return fmt.Errorf("uri: %w", err)
	}
	base := "http://" + ln.Addr().String()
	u := metadata.NewURI(metadata.URIOptions{Source: d.svc, Key: key, BaseURL: base, Log: d.log, Grants: d.execs,
		Limit: d.limit, Refusals: d.refusals})
	d.uri.p.Store(u)
	d.log.Info("credentials URI endpoint", "addr", ln.Addr().String(), "key_dir", dir)
	g.Go(func() error { return metadata.Serve(ctx, ln, u, d.log, d.peers) })
	return nil
}

// uriKey returns the credentials-URI key: in dev mode a fresh one, so the
// demo writes nothing; otherwise the one persisted in the state directory.
func (d *daemon) uriKey() (*metadata.Key, string, error) {
	if d.flags.dev {
		return metadata.NewKey(), "(memory)", nil
	}
	dir, err := stateDir(d.cfg.URI.StateDir, os.Getenv, os.Geteuid())
	if err != nil {
		return nil, "", err
	}
	k, err := metadata.LoadKey(dir)
	return k, dir, err
}

// stateDir returns where ossd keeps state that must survive restarts:
// [uri] state_dir, else $STATE_DIRECTORY (systemd's StateDirectory=), else
// /var/lib/ossd for root, else $XDG_STATE_HOME/ossd, else
// ~/.local/state/ossd.
func stateDir(configured string, getenv func(string) string, euid int) (string, error) {
	switch {
	case configured != "":
		return configured, nil
	case getenv("STATE_DIRECTORY") != "":
		first, _, _ := strings.Cut(getenv("STATE_DIRECTORY"), ":")
		return first, nil
	case euid == 0:
		return "/var/lib/ossd", nil
	case getenv("XDG_STATE_HOME") != "":
		return filepath.Join(getenv("XDG_STATE_HOME"), "ossd"), nil
	case getenv("HOME") != "":
		return filepath.Join(getenv("HOME"), ".local", "state", "ossd"), nil
	}
	return "", errors.New("no state directory: set [uri] state_dir")
}

// tcpListener returns a listener on addr: one systemd passed under name
// for that address, else a new one. In dev mode a busy port falls back to
// a free one.
func (d *daemon) tcpListener(addr, name string) (net.Listener, error) {
	if ln := d.takeInherited(name, addr); ln != nil {
		d.log.Info("listener passed by systemd", "addr", ln.Addr().String())
		return ln, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil && d.flags.dev {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w%s", addr, err, listenHint(err))
	}
	return ln, nil
}

// takeInherited removes from d.inherited[name] the TCP listener on addr
// and returns it, or nil.
func (d *daemon) takeInherited(name, addr string) net.Listener {
	lns := d.inherited[name]
	want, err := net.ResolveTCPAddr("tcp", addr)
	if name == "" || len(lns) == 0 || err != nil {
		return nil
	}
	for i, ln := range lns {
		if got, ok := ln.Addr().(*net.TCPAddr); ok && got.Port == want.Port && got.IP.Equal(want.IP) {
			d.inherited[name] = append(lns[:i:i], lns[i+1:]...)
			if len(d.inherited[name]) == 0 {
				delete(d.inherited, name)
			}
			return ln
		}
	}
	return nil
}

// listenHint explains the two listen errors a sidecar meets.
func listenHint(err error) string {
	switch {
	case errors.Is(err, syscall.EACCES):
		return " (ports below 1024 need CAP_NET_BIND_SERVICE or a lower net.ipv4.ip_unprivileged_port_start; see docs/metadata.md)"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return " (the address is on no interface; for the metadata address: ip addr add 100.100.100.200/32 dev lo, see docs/metadata.md)"
	}
	return ""
}

// uriRoute answers GET /v1/uri/{role} on the socket API.
func (d *daemon) uriRoute() http.Handler {
	return metadata.LookupHandler(d.uri.p.Load, func(r *http.Request, role string) error {
		_, err := d.svc.Authorize(r.Context(), role)
		return err
	})
}

// devMetadataBanner is the dev banner's part about the metadata listener
// and the credentials URI.
func devMetadataBanner(sock string, cfg *config.Config) string {
	var b strings.Builder
	for _, m := range cfg.Metadata {
		fmt.Fprintf(&b, "  metadata: http://%s (ECS metadata compatible, role %s)\n", m.Listen, m.Role)
		fmt.Fprintf(&b, "            curl http://%s%s%s\n", m.Listen, metadata.CredsPath, m.Role)
	}
	if cfg.URI.Listen != "" {
		fmt.Fprintf(&b, "  URI:      export ALIBABA_CLOUD_CREDENTIALS_URI=$(%s uri --role %s --socket %s)\n", selfCommand(), cfg.Roles[0].Name, sock)
		fmt.Fprintf(&b, "  exec:     %s exec --role %s --socket %s -- CMD [ARGS...]\n", selfCommand(), cfg.Roles[0].Name, sock)
	}
	return b.String()
}
