package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// allTargets returns the target names, in the order the matrix runs them.
func allTargets() []string { return []string{"socket", "metadata", "metadata-token", "uri"} }

type options struct {
	duration    time.Duration
	warmup      time.Duration
	concurrency []int
	rounds      int
	socket      string // an existing daemon; empty = start one
	ossd        string // a built ossd binary; empty = go build
	role        string
	metadata    string // host:port of an existing daemon's metadata listener
	uri         string // an existing daemon's credentials URI
	targets     []string
	tcpRate     float64 // requests per second per client on TCP targets; 0 = back to back
	json        bool
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	o := options{}
	fs := flag.NewFlagSet("ossd-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "measured time of each run")
	fs.DurationVar(&o.warmup, "warmup", -1, "unmeasured load before each run (default duration/5, at most 1s)")
	conc := fs.String("concurrency", "64,4", "comma-separated numbers of concurrent clients")
	fs.IntVar(&o.rounds, "rounds", 3, "interleaved rounds of ossd and the limit per cell; the median is reported")
	fs.StringVar(&o.socket, "socket", "", "measure the daemon already serving on this Unix socket instead of starting ossd serve --dev")
	fs.StringVar(&o.ossd, "ossd", "", "ossd binary to start (default: go build ./cmd/ossd)")
	fs.StringVar(&o.role, "role", "demo", "role to ask for")
	fs.StringVar(&o.metadata, "metadata", "", "with --socket: host:port of the daemon's metadata listener for --role")
	fs.StringVar(&o.uri, "uri", "", "with --socket: the credentials URI of --role (ossd uri --role NAME)")
	targets := fs.String("targets", strings.Join(allTargets(), ","), "comma-separated targets to run, of "+strings.Join(allTargets(), ", "))
	fs.Float64Var(&o.tcpRate, "tcp-rate", 90, "requests per second per client on the metadata and URI targets, each client from its own loopback address; 0 = back to back")
	fs.BoolVar(&o.json, "json", false, "print JSON instead of the table")
	if err := fs.Parse(args); err != nil {
		return o, usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return o, usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	var err error
	if o.concurrency, err = parseInts(*conc, "clients", 10000); err != nil {
		return o, usageError{"--concurrency: " + err.Error()}
	}
	if o.targets, err = parseTargets(*targets); err != nil {
		return o, usageError{"--targets: " + err.Error()}
	}
	switch {
	case o.duration <= 0:
		return o, usageError{"--duration must be positive"}
	case o.rounds < 1:
		return o, usageError{"--rounds must be at least 1"}
	case o.tcpRate < 0:
		return o, usageError{"--tcp-rate must not be negative"}
	case o.socket == "" && (o.metadata != "" || o.uri != ""):
		return o, usageError{"--metadata and --uri describe an existing daemon: give --socket too"}
	}
	if o.warmup < 0 {
		o.warmup = min(o.duration/5, time.Second)
	}
	return o, nil
}

// parseInts parses comma-separated numbers of what, each in 1..most.
func parseInts(s, what string, most int) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > most {
			return nil, fmt.Errorf("%q is not a number of %s (1..%d)", f, what, most)
		}
		out = append(out, n)
	}
	return out, nil
}

func parseTargets(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if !slices.Contains(allTargets(), f) {
			return nil, fmt.Errorf("unknown target %q; want some of %s", f, strings.Join(allTargets(), ", "))
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}
