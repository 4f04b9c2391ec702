package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/localsts"
)

const (
	scaleAccount = "1234567890123456"
	scaleKeyID   = "LTAIossdBenchSourceKey"
)

// scenario is one start of the real daemon with n configured roles.
type scenario struct {
	Name   string  `json:"name"`
	Roles  int     `json:"roles"`
	MaxQPS float64 `json:"max_qps"`
}

// scaleResult is what one scenario measured, over its repeats.
type scaleResult struct {
	scenario
	Ready    []time.Duration `json:"ready_ns"`     // process start to every role "ok" in /v1/roles
	RSSKiB   []int64         `json:"rss_kib"`      // VmRSS once ready and idle
	STSCalls []int           `json:"sts_calls"`    // AssumeRole calls the start made
	Median   time.Duration   `json:"ready_median"` // of Ready
	// MaxCallsPerSecond is the most AssumeRole calls that arrived within
	// any one second, over all repeats.
	MaxCallsPerSecond int `json:"max_calls_in_1s"`
}

type scaleOptions struct {
	ossd   string
	roles  int
	ready  int
	repeat int
	settle time.Duration
	json   bool

	only           string // "", "roles" or "sessions"
	sessions       []int  // on-demand sessions to fill, one start each
	sessionQPS     float64
	sessionClients int
	heapProfile    string // a directory for heap profiles; "" = none
	memLimit       string // GOMEMLIMIT of the session starts' daemon; "" = none
	gogc           string // GOGC of the session starts' daemon; "" = none
}

// scale starts the real daemon against an in-process local STS with
// generated configs and reports time to ready and resident memory.
func scale(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseScale(args, stderr)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "ossd-scale-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := o.ossd
	if bin == "" {
		// The benchmark build lifts only the max_qps cap of 100, so that
		// the session fill takes seconds, not a quarter of an hour
		// (internal/config/qpslimit_bench.go), and writes heap profiles.
		fmt.Fprintln(stderr, "building ossd with -tags ossd_bench...")
		if bin, err = build(ctx, dir, "cmd/ossd", "ossd", "-tags", "ossd_bench"); err != nil {
			return err
		}
	}
	env, err := startSTS(max(o.roles, o.ready))
	if err != nil {
		return err
	}
	defer env.sts.Close()
	m := describeMachine()
	var rep struct {
		Machine  machine         `json:"machine"`
		Results  []scaleResult   `json:"results,omitempty"`
		Sessions []sessionResult `json:"sessions,omitempty"`
	}
	rep.Machine = m
	if o.only != "sessions" {
		if rep.Results, err = env.measure(ctx, bin, dir, o, stderr); err != nil {
			return err
		}
	}
	if o.only != "roles" {
		if rep.Sessions, err = env.measureSessions(ctx, bin, dir, o, stderr); err != nil {
			return err
		}
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	m.write(stdout)
	if len(rep.Results) > 0 {
		if err := writeScale(stdout, rep.Results, o.settle); err != nil {
			return err
		}
	}
	if len(rep.Sessions) > 0 {
		fmt.Fprintln(stdout)
		return writeSessions(stdout, rep.Sessions, o.settle)
	}
	return nil
}

// measure runs every scenario o.repeat times.
func (e *stsEnv) measure(ctx context.Context, bin, dir string, o scaleOptions, stderr io.Writer) ([]scaleResult, error) {
	scenarios := []scenario{
		{"idle, 1 role", 1, 20},
		{fmt.Sprintf("%d roles, default max_qps", o.ready), o.ready, 20},
		{fmt.Sprintf("%d roles, max_qps 100", o.ready), o.ready, 100},
		{fmt.Sprintf("%d roles, max_qps 100", o.roles), o.roles, 100},
	}
	var results []scaleResult
	for _, sc := range scenarios {
		res := scaleResult{scenario: sc}
		for i := range o.repeat {
			st, err := e.startOnce(ctx, bin, filepath.Join(dir, fmt.Sprint("run", len(results), i)), sc, o.settle)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", sc.Name, err)
			}
			fmt.Fprintf(stderr, "%-28s run %d: ready in %v, RSS %.1f MiB, %d STS calls, at most %d in one second\n",
				sc.Name, i+1, st.ready.Round(time.Millisecond), float64(st.rss)/1024, st.calls, st.maxPerSecond)
			res.Ready, res.RSSKiB, res.STSCalls = append(res.Ready, st.ready), append(res.RSSKiB, st.rss), append(res.STSCalls, st.calls)
			res.MaxCallsPerSecond = max(res.MaxCallsPerSecond, st.maxPerSecond)
		}
		s := slices.Clone(res.Ready)
		slices.Sort(s)
		res.Median = s[(len(s)-1)/2]
		results = append(results, res)
	}
	return results, nil
}

func parseScale(args []string, stderr io.Writer) (scaleOptions, error) {
	var o scaleOptions
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.ossd, "ossd", "", "ossd binary to start (default: go build ./cmd/ossd)")
	fs.IntVar(&o.roles, "roles", 1000, "configured roles of the largest start")
	fs.IntVar(&o.ready, "ready-roles", 100, "configured roles of the time-to-ready starts")
	fs.IntVar(&o.repeat, "repeat", 3, "starts per scenario; the median time is reported")
	fs.DurationVar(&o.settle, "settle", 2*time.Second, "idle time after ready before RSS is read")
	fs.BoolVar(&o.json, "json", false, "print JSON")
	fs.StringVar(&o.only, "only", "", "run only the roles or the sessions scenarios")
	sessions := fs.String("sessions", "10000,100000", "comma-separated on-demand session counts, one start each")
	fs.Float64Var(&o.sessionQPS, "session-qps", 2000, "sts.max_qps of the session starts (above 100 needs a -tags ossd_bench build, which scale makes)")
	fs.IntVar(&o.sessionClients, "session-clients", 8, "concurrent clients filling the sessions")
	fs.StringVar(&o.memLimit, "gomemlimit", "", "GOMEMLIMIT for the daemon of the session starts, such as 200MiB (default: none)")
	fs.StringVar(&o.gogc, "gogc", "", "GOGC for the daemon of the session starts, such as 50 (default: none)")
	fs.StringVar(&o.heapProfile, "heap-profile", "", "directory to write a heap profile of the daemon into at each session count")
	if err := fs.Parse(args); err != nil {
		return o, usageError{err.Error()}
	}
	var err error
	if o.sessions, err = parseInts(*sessions, "sessions", 1_000_000); err != nil {
		return o, usageError{"scale: --sessions: " + err.Error()}
	}
	switch {
	case o.only != "" && o.only != "roles" && o.only != "sessions":
		return o, usageError{"scale: --only must be roles or sessions"}
	case o.sessionQPS <= 0 || o.sessionClients < 1:
		return o, usageError{"scale: --session-qps must be positive and --session-clients at least 1"}
	case fs.NArg() > 0:
		return o, usageError{fmt.Sprintf("scale: unexpected argument %q", fs.Arg(0))}
	case o.roles < 1 || o.ready < 1 || o.roles > 100000 || o.ready > 100000:
		return o, usageError{"scale: --roles and --ready-roles must be in 1..100000"}
	case o.repeat < 1:
		return o, usageError{"scale: --repeat must be at least 1"}
	}
	return o, nil
}

func writeScale(w io.Writer, rs []scaleResult, settle time.Duration) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\troles\tmax_qps\tready (median)\tready (min..max)\tRSS (median)\tSTS calls\tmost in 1s")
	for _, r := range rs {
		lo, hi := slices.Min(r.Ready), slices.Max(r.Ready)
		rss := slices.Clone(r.RSSKiB)
		slices.Sort(rss)
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%v\t%v..%v\t%.1f MiB\t%v\t%d\n", r.Name, r.Roles, r.MaxQPS, r.Median.Round(time.Millisecond),
			lo.Round(time.Millisecond), hi.Round(time.Millisecond), float64(rss[(len(rss)-1)/2])/1024, r.STSCalls, r.MaxCallsPerSecond)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nready: from starting the process to every role \"ok\" in /v1/roles (polled every 10ms).\nRSS: VmRSS of the daemon %v after ready, idle.\nmost in 1s: the most AssumeRole calls the local STS received within any one second.\n", settle)
	return nil
}

// stsEnv is the local STS the scale starts use, with one role per
// generated config entry.
type stsEnv struct {
	sts      *localsts.Server
	endpoint string
	secret   string
}

func startSTS(roles int) (*stsEnv, error) {
	s := localsts.New(localsts.Config{Clock: clock.Real{}, AccountID: scaleAccount})
	secret := rand.Text() // the daemon's source secret for this run only
	s.AddAccessKey(scaleKeyID, secret)
	for i := range roles {
		s.AddRole(roleARN(i), 12*time.Hour)
	}
	endpoint, err := s.Start("127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start local STS: %w", err)
	}
	return &stsEnv{sts: s, endpoint: endpoint, secret: secret}, nil
}

func roleARN(i int) string { return fmt.Sprintf("acs:ram::%s:role/bench-%05d", scaleAccount, i) }

// config returns a TOML config with n roles against the local STS.
func (e *stsEnv) config(socket string, n int, maxQPS float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[source]\ntype = \"access_key\"\naccess_key_id = %q\naccess_key_secret = %q\n\n", scaleKeyID, e.secret)
	fmt.Fprintf(&b, "[sts]\nregion = \"cn-hangzhou\"\nendpoint = %q\nmax_qps = %v\n\n", e.endpoint, maxQPS)
	fmt.Fprintf(&b, "[server]\nsocket = %q\n\n[log]\nlevel = \"warn\"\n", socket)
	for i := range n {
		fmt.Fprintf(&b, "\n[[role]]\nname = \"r%05d\"\narn = %q\n", i, roleARN(i))
	}
	return b.String()
}
