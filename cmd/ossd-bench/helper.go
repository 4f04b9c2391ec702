package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"
)

// Targets of issue 16: each helper's median run time against the floor
// program's, in the same interleaved run.
const (
	leanTarget = 1.15 // ossd-credential-process
	ossdTarget = 1.5  // ossd credential-process
)

type helperOptions struct {
	runs   int
	warmup int
	ossd   string // binaries; "" = go build, static
	lean   string
	floor  string
	socket string // a running daemon; "" = start ossd serve --dev
	role   string
	json   bool
}

// helper times whole runs of the credential helpers, process start to
// JSON, against a warm daemon, beside the floor program
// (testdata/floor: one raw HTTP/1.0 request, the body copied to stdout) and
// /bin/true, interleaved so that machine load hits them alike.
func helper(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseHelper(args, stderr)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "ossd-helper-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := o.buildMissing(ctx, dir, stderr); err != nil {
		return err
	}
	if o.socket == "" {
		d, err := startDev(ctx, o.ossd, dir, o.role)
		if err != nil {
			return err
		}
		defer d.proc.stop()
		o.socket = d.socket
	}
	m := describeMachine() // the load average before the runs
	cmds := o.commands()
	fmt.Fprintf(stderr, "%d warm-up and %d measured rounds of %d commands...\n", o.warmup, o.runs, len(cmds))
	results, err := timeHelpers(ctx, cmds, o.warmup, o.runs)
	if err != nil {
		return err
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Machine machine        `json:"machine"`
			Results []helperResult `json:"results"`
		}{m, results})
	}
	m.write(stdout)
	return writeHelper(stdout, results, o.runs)
}

func parseHelper(args []string, stderr io.Writer) (helperOptions, error) {
	var o helperOptions
	fs := flag.NewFlagSet("helper", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.runs, "runs", 300, "measured rounds; each runs every command once")
	fs.IntVar(&o.warmup, "warmup", 20, "unmeasured rounds first")
	fs.StringVar(&o.ossd, "ossd", "", "ossd binary (default: go build ./cmd/ossd, static)")
	fs.StringVar(&o.lean, "lean", "", "ossd-credential-process binary (default: go build ./cmd/ossd-credential-process, static)")
	fs.StringVar(&o.floor, "floor", "", "floor program (default: go build ./cmd/ossd-bench/testdata/floor, static)")
	fs.StringVar(&o.socket, "socket", "", "a running daemon's socket (default: start ossd serve --dev)")
	fs.StringVar(&o.role, "role", "demo", "role to ask for")
	fs.BoolVar(&o.json, "json", false, "print JSON, with every sample")
	if err := fs.Parse(args); err != nil {
		return o, usageError{err.Error()}
	}
	switch {
	case fs.NArg() > 0:
		return o, usageError{fmt.Sprintf("helper: unexpected argument %q", fs.Arg(0))}
	case o.runs < 1 || o.warmup < 0:
		return o, usageError{"helper: --runs must be at least 1 and --warmup at least 0"}
	}
	return o, nil
}

// buildMissing builds every binary not given.
func (o *helperOptions) buildMissing(ctx context.Context, dir string, stderr io.Writer) error {
	for _, b := range []struct {
		bin       *string
		pkg, name string
	}{
		{&o.ossd, "cmd/ossd", "ossd"},
		{&o.lean, "cmd/ossd-credential-process", "ossd-credential-process"},
		{&o.floor, "cmd/ossd-bench/testdata/floor", "floor"},
	} {
		if *b.bin != "" {
			continue
		}
		fmt.Fprintf(stderr, "building %s...\n", b.name)
		bin, err := build(ctx, dir, b.pkg, b.name)
		if err != nil {
			return err
		}
		*b.bin = bin
	}
	return nil
}

// commands are what each round runs; the floor comes first, as the base of
// every ratio.
func (o *helperOptions) commands() []helperCmd {
	return []helperCmd{
		{Name: "floor", Argv: []string{o.floor, o.socket, o.role}, Want: `{"AccessKeyId":"STS.`},
		{Name: "ossd-credential-process", Argv: []string{o.lean, "--role", o.role, "--socket", o.socket}, Want: `{"mode":"StsToken",`, Target: leanTarget},
		{Name: "ossd credential-process", Argv: []string{o.ossd, "credential-process", "--role", o.role, "--socket", o.socket}, Want: `{"mode":"StsToken",`, Target: ossdTarget},
		{Name: "/bin/true", Argv: []string{"/bin/true"}},
	}
}

func writeHelper(w io.Writer, rs []helperResult, runs int) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "command\tmedian\tp90\tp99\tCPU (median)\tpage faults\tratio to floor\ttarget")
	for _, r := range rs {
		target := ""
		if r.Target > 0 {
			verdict := "met"
			if r.Ratio > r.Target {
				verdict = "NOT met"
			}
			target = fmt.Sprintf("<= %.2f: %s", r.Target, verdict)
		}
		fmt.Fprintf(tw, "%s\t%v\t%v\t%v\t%v\t%d\t%.2f\t%s\n", r.Name, ms(r.Median), ms(r.P90), ms(r.P99), ms(r.CPUMedian), r.FaultsMedian, r.Ratio, target)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d rounds, each running every command once in a rotating order. Times are wall clock, process start to exit;\n"+
		"CPU is user+system; page faults are minor faults (medians). ratio: the median over rounds of the command's time\n"+
		"over the floor's in the same round.\n", runs)
	return nil
}

// ms rounds d for the table.
func ms(d time.Duration) time.Duration {
	if d >= 10*time.Millisecond {
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(10 * time.Microsecond)
}
