package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"time"

	"github.com/ossd/ossd/bench"
	"github.com/ossd/ossd/metadata"
)

// report is the --json output.
type report struct {
	Machine     machine            `json:"machine"`
	Options     reportOptions      `json:"options"`
	Skipped     map[string]string  `json:"skipped,omitempty"` // target -> why
	Comparisons []bench.Comparison `json:"comparisons"`
	Cells       []bench.Cell       `json:"cells"`
	OssdRSSKiB  int64              `json:"ossd_rss_kib,omitempty"` // after the runs, when this command started ossd
}

type reportOptions struct {
	Duration string  `json:"duration"`
	Warmup   string  `json:"warmup"`
	Rounds   int     `json:"rounds"`
	TCPRate  float64 `json:"tcp_rate_per_client"`
}

// matrix runs every target at every concurrency against ossd and the
// limit, and prints the comparison.
func matrix(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	o, err := parseOptions(args, stderr)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "ossd-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	d, err := openDaemon(ctx, o, dir, stderr)
	if err != nil {
		return err
	}
	if d.proc != nil {
		defer func() {
			if serr := d.proc.stop(); serr != nil && err == nil {
				err = fmt.Errorf("ossd: %w\nstderr:\n%s", serr, d.proc.stderr)
			}
		}()
	}
	targets, skipped := d.targets(o)
	routes, err := captureAll(ctx, targets)
	if err != nil {
		return err
	}
	lim, err := startLimit(ctx, routes, dir)
	if err != nil {
		return err
	}
	defer lim.proc.stop()
	rep := report{Machine: describeMachine(), Skipped: skipped, Options: reportOptions{
		Duration: o.duration.String(), Warmup: o.warmup.String(), Rounds: o.rounds, TCPRate: o.tcpRate}}
	for _, t := range targets {
		for _, n := range o.concurrency {
			cell, err := runCell(ctx, o, t, lim, n, stderr)
			if err != nil {
				return err
			}
			rep.Cells = append(rep.Cells, cell)
			rep.Comparisons = append(rep.Comparisons, bench.Compare(cell))
		}
	}
	if d.proc != nil {
		rep.OssdRSSKiB, _ = rssKiB(d.proc.pid()) // best effort: the figure is extra
	}
	return writeReport(stdout, o, rep)
}

// openDaemon starts ossd serve --dev, or checks the daemon on --socket.
func openDaemon(ctx context.Context, o options, dir string, stderr io.Writer) (*daemon, error) {
	if o.socket != "" {
		if err := waitHealthy(ctx, o.socket, 5*time.Second); err != nil {
			return nil, err
		}
		d := &daemon{socket: o.socket, metadata: o.metadata, uri: o.uri}
		if d.uri == "" {
			d.uri = lookupURI(ctx, d.socket, o.role)
		}
		return d, nil
	}
	bin := o.ossd
	if bin == "" {
		fmt.Fprintln(stderr, "building ossd...")
		var err error
		if bin, err = buildOssd(ctx, dir); err != nil {
			return nil, err
		}
	}
	d, err := startDev(ctx, bin, dir, o.role)
	if err != nil {
		return nil, err
	}
	d.uri = lookupURI(ctx, d.socket, o.role)
	return d, nil
}

// targets returns the targets o asks for that the daemon offers, and why
// the others are skipped.
func (d *daemon) targets(o options) ([]bench.Target, map[string]string) {
	var out []bench.Target
	skipped := make(map[string]string)
	for _, name := range o.targets {
		t, why := d.target(name, o.role)
		if why != "" {
			skipped[name] = why
			continue
		}
		out = append(out, t)
	}
	return out, skipped
}

func (d *daemon) target(name, role string) (bench.Target, string) {
	creds := metadata.CredsPath + role
	switch name {
	case "socket":
		p := "/v1/credentials/" + url.PathEscape(role)
		return bench.Target{Name: name, Network: "unix", Addr: d.socket, Op: bench.NewGet("localhost", p, p)}, ""
	case "metadata", "metadata-token":
		if d.metadata == "" {
			return bench.Target{}, "no metadata listener for role " + role + " (with --socket, give --metadata)"
		}
		op := bench.Op(bench.NewGet(d.metadata, creds, creds))
		if name == "metadata-token" {
			op = bench.NewTokenGet(d.metadata, metadata.TokenPath, creds)
		}
		return bench.Target{Name: name, Network: "tcp", Addr: d.metadata, Op: op}, ""
	case "uri":
		u, err := url.Parse(d.uri)
		if d.uri == "" || err != nil || u.Scheme != "http" || u.Host == "" {
			return bench.Target{}, "no credentials URI for role " + role + " (the [uri] endpoint is off; with --socket, give --uri)"
		}
		// The path is the secret: errors name a placeholder.
		return bench.Target{Name: name, Network: "tcp", Addr: u.Host, Op: bench.NewGet(u.Host, u.EscapedPath(), metadata.URIPrefix+"<token>")}, ""
	}
	return bench.Target{}, "unknown target"
}

// captureAll records the daemon's answers to one operation of each target:
// the bytes the limit server replays.
func captureAll(ctx context.Context, ts []bench.Target) (*bench.Routes, error) {
	all := bench.NewRoutes(nil)
	for _, t := range ts {
		rs, err := bench.Capture(ctx, t)
		if err != nil {
			return nil, err
		}
		all.Merge(rs)
	}
	return all, nil
}

// runCell measures t with n clients in o.rounds rounds, alternating which
// server goes first.
func runCell(ctx context.Context, o options, t bench.Target, lim *limit, n int, stderr io.Writer) (bench.Cell, error) {
	cell := bench.Cell{Target: t.Name, Clients: n}
	lt := t.At("unix", lim.socket)
	if t.Network == "tcp" {
		lt = t.At("tcp", lim.tcp)
	}
	rate := 0.0
	if t.Network == "tcp" && o.tcpRate > 0 {
		rate = o.tcpRate / float64(requestsPerOp(t))
	}
	for r := range o.rounds {
		order := []string{"ossd", "limit"}
		if r%2 == 1 {
			slices.Reverse(order)
		}
		for _, server := range order {
			target := t
			if server == "limit" {
				target = lt
			}
			res, err := bench.Run(ctx, bench.Options{Target: target, Clients: n, Window: o.duration, Warmup: o.warmup, Rate: rate, Spread: t.Network == "tcp"})
			if err != nil {
				return cell, fmt.Errorf("%s, %d clients, %s: %w", t.Name, n, server, err)
			}
			fmt.Fprintf(stderr, "%-15s %4d clients  round %d  %-5s %9.0f ops/s  p99 %v  errors %d\n", t.Name, n, r+1, server, res.Throughput, res.P99, res.Errors)
			if server == "ossd" {
				cell.Ossd = append(cell.Ossd, res)
			} else {
				cell.Limit = append(cell.Limit, res)
			}
		}
	}
	return cell, nil
}

func requestsPerOp(t bench.Target) int {
	if _, ok := t.Op.(bench.TokenGet); ok {
		return 2
	}
	return 1
}

func writeReport(w io.Writer, o options, rep report) error {
	if o.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	rep.Machine.write(w)
	fmt.Fprintf(w, "each run: %v measured after %v of warm-up; %d rounds, ossd and limit interleaved\n", o.duration, o.warmup, o.rounds)
	if o.tcpRate > 0 {
		fmt.Fprintf(w, "metadata and URI targets: each client paced to %.0f requests/s from its own loopback address,\nas SDK clients are, so their ops/s are equal by design: compare latency\n", o.tcpRate)
	}
	for _, name := range o.targets {
		if why, ok := rep.Skipped[name]; ok {
			fmt.Fprintf(w, "skipped %s: %s\n", name, why)
		}
	}
	fmt.Fprintln(w)
	if err := bench.WriteTable(w, rep.Comparisons, bench.Aims()); err != nil {
		return err
	}
	if rep.OssdRSSKiB > 0 {
		fmt.Fprintf(w, "\nossd RSS after the runs: %.1f MiB\n", float64(rep.OssdRSSKiB)/1024)
	}
	return nil
}
