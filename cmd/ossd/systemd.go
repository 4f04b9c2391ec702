package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ossd/ossd/internal/daemonid"
	"github.com/ossd/ossd/internal/ready"
	"github.com/ossd/ossd/internal/service"
	"github.com/ossd/ossd/systemd"
)

// startup begins the daemon's start-up. It takes the sockets systemd passed
// (LISTEN_FDS), so it must run once, before any front end opens its
// listener; front ends then take theirs from d.inherited by name
// (systemd.SocketName, systemd.MetadataName).
//
// Front ends open their listeners at once but serve only after
// [daemon.started] (see [daemon.awaitStarted]): until the role table is in
// place a request for a configured role would get UnknownRole. Connections
// made meanwhile wait in the listening socket's queue.
func (d *daemon) startup() error {
	d.starting = make(chan struct{})
	ls, err := systemd.Listeners()
	if err != nil {
		return fmt.Errorf("take sockets from systemd: %w", err)
	}
	d.inherited = ls
	return nil
}

// awaitStarted blocks until [daemon.started] or the end of ctx. A front end
// calls it in its serving goroutine, before accepting connections.
func (d *daemon) awaitStarted(ctx context.Context) {
	select {
	case <-d.starting:
	case <-ctx.Done():
	}
}

// started ends the start-up: front ends begin serving and, under systemd,
// one goroutine keeps the status fresh, pings the watchdog while the
// socket API at sock answers and sends STOPPING=1 when ctx ends, while
// another sends READY=1 once every role has been tried (notifyReady).
func (d *daemon) started(ctx context.Context, g *errgroup.Group, sock string) error {
	close(d.starting)
	if !systemd.Enabled() {
		return nil
	}
	o, err := d.systemdOptions(sock)
	if err != nil {
		return err
	}
	g.Go(func() error { d.notifyReady(ctx); return nil })
	g.Go(func() error { return systemd.Run(ctx, o) })
	return nil
}

// readyPoll is how often notifyReady looks for roles still pending.
const readyPoll = 100 * time.Millisecond

// notifyReady sends READY=1 once no configured role is pending, that is
// once each has been fetched or has failed, with the roles' states (the
// failing ones named) in STATUS=. It does not wait for failing roles to
// recover: systemd would otherwise fail the start, and the daemon does
// serve the others. Whether the roles can be served is /readyz's and
// `ossd status`'s to tell.
func (d *daemon) notifyReady(ctx context.Context) {
	roles, err := ready.WaitTried(ctx, d.clk, readyPoll, d.roleStates)
	if err != nil {
		return // stopped before every role was tried
	}
	if err := systemd.Notify(systemd.Ready, systemd.Status(statusLine(roles))); err != nil {
		d.log.Warn("systemd notification failed", "err", err)
	}
}

// roleStates returns the state of every configured role. A role in the
// running config that the service does not list yet is pending.
func (d *daemon) roleStates() []service.RoleStatus {
	st := d.svc.Status()
	have := make(map[string]bool, len(st))
	for _, r := range st {
		have[r.Name] = true
	}
	for _, r := range d.running.Load().Roles {
		if !have[r.Name] {
			st = append(st, service.RoleStatus{Name: r.Name, RoleARN: r.ARN, SessionName: r.SessionName, State: "pending"})
		}
	}
	return st
}

// inheritedSocket returns the socket API's listeners when systemd passed
// them (named "ossd", or the only socket passed, unnamed), with the path
// they listen on; otherwise nil and path unchanged. systemd owns such a
// socket: ossd neither chmods nor unlinks it.
func (d *daemon) inheritedSocket(path string) ([]net.Listener, string, error) {
	lns := systemd.Take(d.inherited, systemd.SocketName)
	if len(lns) == 0 {
		if ln := systemd.TakeOnly(d.inherited); ln != nil {
			lns = []net.Listener{ln}
		}
	}
	if len(lns) == 0 {
		return nil, path, nil
	}
	for _, ln := range lns {
		if _, ok := ln.(*net.UnixListener); !ok {
			closeListeners(lns)
			return nil, "", fmt.Errorf("socket from systemd is %s %s: the socket API serves only Unix sockets", ln.Addr().Network(), ln.Addr())
		}
	}
	got := lns[0].Addr().String()
	if path != got && (d.flags.socket != "" || d.cfg.Server.Socket != "") {
		d.log.Warn("using the socket systemd passed, not the configured path", "socket", got, "configured", path)
	}
	d.log.Info("socket passed by systemd", "socket", got, "count", len(lns))
	return lns, got, nil
}

// closeUnusedSockets closes the sockets systemd passed that no front end
// took, naming them: they would otherwise accept connections nobody serves.
func (d *daemon) closeUnusedSockets() {
	for name, lns := range d.inherited {
		for _, ln := range lns {
			d.log.Warn("closing a socket systemd passed that nothing in the config serves", "name", name, "addr", ln.Addr().String())
		}
		closeListeners(lns)
		delete(d.inherited, name)
	}
}

func closeListeners(lns []net.Listener) {
	for _, ln := range lns {
		ln.Close() // an error closing an unused listener changes nothing
	}
}

// systemdOptions configures systemd.Run. Watchdog pings need the socket
// API to answer /healthz at sock.
func (d *daemon) systemdOptions(sock string) (systemd.Options, error) {
	wd, err := systemd.WatchdogInterval()
	if err != nil {
		return systemd.Options{}, err
	}
	o := systemd.Options{Clock: d.clk, Log: d.log, Watchdog: wd, Status: d.systemdStatus}
	if wd > 0 {
		o.Check = healthCheck(sock, wd/4)
		d.log.Info("systemd watchdog on", "timeout", wd.String(), "ping_every", systemd.PingEvery(wd).String())
	}
	return o, nil
}

func (d *daemon) systemdStatus() string { return statusLine(d.roleStates()) }

// statusLine summarises the roles' states for `systemctl status`, e.g.
// "3 roles: 2 ok, 1 failing (reader)". Roles not ok are named, at most
// three per state.
func statusLine(roles []service.RoleStatus) string {
	byState := map[string][]string{}
	for _, r := range roles {
		byState[r.State] = append(byState[r.State], r.Name)
	}
	var parts []string
	for _, st := range []string{"ok", "degraded", "failing", "pending"} {
		names := byState[st]
		delete(byState, st)
		if len(names) == 0 {
			continue
		}
		parts = append(parts, stateCount(st, names))
	}
	for _, st := range slices.Sorted(maps.Keys(byState)) { // states this summary does not know yet
		parts = append(parts, stateCount(st, byState[st]))
	}
	noun := "roles"
	if len(roles) == 1 {
		noun = "role"
	}
	if len(parts) == 0 {
		return "0 roles"
	}
	return strconv.Itoa(len(roles)) + " " + noun + ": " + strings.Join(parts, ", ")
}

func stateCount(state string, names []string) string {
	s := strconv.Itoa(len(names)) + " " + state
	if state == "ok" {
		return s
	}
	if len(names) > 3 {
		names = append(names[:3:3], "…")
	}
	return s + " (" + strings.Join(names, " ") + ")"
}

// healthCheck returns a probe of the socket API's /healthz at path, or nil
// when path cannot be dialled (an unnamed socket).
func healthCheck(path string, timeout time.Duration) func(context.Context) error {
	if path == "" {
		return nil
	}
	c := daemonHTTP(path, daemonid.Want{}, timeout) // our own socket: our uid, or root's under socket activation
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://localhost/healthz", nil)
		if err != nil {
			return fmt.Errorf("probe socket: %w", err)
		}
		resp, err := c.Do(req)
		if err != nil {
			return fmt.Errorf("probe socket: %w", err)
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body) // drained only to finish the exchange
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("probe socket: /healthz answered %s", resp.Status)
		}
		return nil
	}
}
