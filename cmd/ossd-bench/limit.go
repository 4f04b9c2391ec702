package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ossd/ossd/bench"
)

// limitServerCmd is the hidden subcommand the matrix re-executes itself
// with, so that the limit runs in its own process as ossd does.
const limitServerCmd = "limit-server"

// limitServer reads routes (JSON) from stdin, listens on --unix and --tcp,
// prints "ready unix=PATH tcp=ADDR", and replays the routes with a bare
// net/http server until ctx ends.
func limitServer(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(limitServerCmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	unixPath := fs.String("unix", "", "Unix socket to listen on")
	tcpAddr := fs.String("tcp", "", "TCP address to listen on")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	var list []bench.Route
	if err := json.NewDecoder(stdin).Decode(&list); err != nil {
		return fmt.Errorf("limit-server: read routes: %w", err)
	}
	routes := bench.NewRoutes(list)
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for _, l := range []struct{ network, addr string }{{"unix", *unixPath}, {"tcp", *tcpAddr}} {
		if l.addr == "" {
			continue
		}
		ln, err := net.Listen(l.network, l.addr)
		if err != nil {
			return fmt.Errorf("limit-server: %w", err)
		}
		lns = append(lns, ln)
	}
	fmt.Fprintf(stdout, "ready unix=%s tcp=%s\n", *unixPath, tcpOf(lns))
	g, gctx := errgroup.WithContext(ctx)
	for _, ln := range lns {
		srv := &http.Server{Handler: routes} // bare: no timeouts, no limits, nothing but the bytes
		g.Go(func() error {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
		g.Go(func() error {
			<-gctx.Done()
			return srv.Close()
		})
	}
	if err := g.Wait(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("limit-server: %w", err)
	}
	return nil
}

func tcpOf(lns []net.Listener) string {
	for _, ln := range lns {
		if a, ok := ln.Addr().(*net.TCPAddr); ok {
			return a.String()
		}
	}
	return ""
}

// limit is the running limit server.
type limit struct {
	socket string // Unix socket
	tcp    string // loopback host:port
	proc   *proc
}

var readyLine = regexp.MustCompile(`ready unix=(\S*) tcp=(\S*)\n`)

// startLimit runs this program's limit-server with routes, on a socket in
// dir and a free loopback port. The routes, which hold credentials, go
// through a pipe, never a file.
func startLimit(ctx context.Context, routes *bench.Routes, dir string) (*limit, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("start limit server: %w", err)
	}
	body, err := json.Marshal(routes.List())
	if err != nil {
		return nil, fmt.Errorf("start limit server: %w", err)
	}
	sock := dir + "/limit.sock"
	p, err := startProc(self, []string{limitServerCmd, "--unix", sock, "--tcp", "127.0.0.1:0"}, bytes.NewReader(body), dir+"/limit.stderr")
	if err != nil {
		return nil, err
	}
	out, err := p.waitOutput(ctx, "ready ", 10*time.Second)
	if err != nil {
		p.stop()
		return nil, err
	}
	m := readyLine.FindStringSubmatch(out)
	if m == nil {
		p.stop()
		return nil, fmt.Errorf("limit server: unexpected output %q", out)
	}
	return &limit{socket: m[1], tcp: m[2], proc: p}, nil
}
