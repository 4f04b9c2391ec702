package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/fleet"
)

// fleetCmd simulates a fleet of daemons sharing one account's AssumeRole
// limit (internal/fleet) and prints what it measured.
func fleetCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, asJSON, err := parseFleet(args, stderr)
	if err != nil {
		return err
	}
	clk := clock.Real{}
	began := clk.Mono()
	res, err := fleet.Run(ctx, o)
	if err != nil {
		return fmt.Errorf("fleet: %w", err)
	}
	took := clk.Mono() - began
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			*fleet.Result
			WallSeconds float64 `json:"wall_seconds"`
		}{res, took.Seconds()})
	}
	return writeFleet(stdout, res, took)
}

func parseFleet(args []string, stderr io.Writer) (fleet.Options, bool, error) {
	var o fleet.Options
	fs := flag.NewFlagSet("fleet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.Hosts, "hosts", 10_000, "daemons sharing the account")
	fs.IntVar(&o.Roles, "roles", 20, "configured roles per daemon")
	fs.DurationVar(&o.Duration, "duration", time.Hour, "session duration of every role")
	fs.DurationVar(&o.Run, "run", time.Hour, "simulated time measured")
	restart := fs.Bool("restart", false, "restart every daemon at once at --at, keeping its tokens (a rollout with the token store)")
	reboot := fs.Bool("reboot", false, "restart every daemon at once at --at with its tokens lost (nodes replaced)")
	fs.DurationVar(&o.At, "at", 0, "when the restart or reboot happens, from the start of the measured time")
	fs.IntVar(&o.Limit, "limit", 100, "the account's AssumeRole calls per second")
	fs.Float64Var(&o.MaxQPS, "max-qps", 0, "each daemon's sts.max_qps (default the daemon's)")
	fs.DurationVar(&o.OutageMargin, "outage-margin", 0, "refresh.outage_margin (default the daemon's)")
	fs.DurationVar(&o.Spread, "spread", 0, "refresh.spread (default the daemon's; negative: none)")
	fs.DurationVar(&o.StartSpread, "start-spread", 0, "refresh.start_spread of the restarted daemons (default 0: every role at once)")
	fs.DurationVar(&o.CallerMin, "callers-min", 30*time.Second, "each daemon's callers ask for every role once per a period of at least this...")
	fs.DurationVar(&o.CallerMax, "callers-max", 60*time.Second, "...and at most this")
	fs.Uint64Var(&o.Seed, "seed", 1, "random seed; the same seed gives the same run")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := fs.Parse(args); err != nil {
		return o, false, usageError{err.Error()}
	}
	switch {
	case fs.NArg() > 0:
		return o, false, usageError{fmt.Sprintf("fleet: unexpected argument %q", fs.Arg(0))}
	case o.Hosts < 1 || o.Roles < 1 || o.Limit < 1:
		return o, false, usageError{"fleet: --hosts, --roles and --limit must be at least 1"}
	case o.Duration <= 0 || o.Run <= 0:
		return o, false, usageError{"fleet: --duration and --run must be positive"}
	case *restart && *reboot:
		return o, false, usageError{"fleet: --restart and --reboot exclude each other"}
	case *restart:
		o.Event = fleet.Restart
	case *reboot:
		o.Event = fleet.Reboot
	}
	return o, *asJSON, nil
}

func writeFleet(w io.Writer, r *fleet.Result, took time.Duration) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "fleet\t%d hosts x %d roles of %s, %s measured, event %s at +%s, account limit %d/s\n",
		r.Hosts, r.Roles, r.Duration, r.Run, r.Event, r.At, r.Limit)
	fmt.Fprintf(tw, "AssumeRole\t%d attempts, %d accepted, %d throttled; %.2f accepted per role-hour\n",
		r.Attempts, r.Accepted, r.Throttled, r.AcceptedPerRoleHour)
	fmt.Fprintf(tw, "attempts/s\tp50 %d, p90 %d, p99 %d, max %d; %d seconds over the limit\n",
		r.AttemptsPerSecond.P50, r.AttemptsPerSecond.P90, r.AttemptsPerSecond.P99, r.MaxAttemptsPerSecond, r.SecondsOverLimit)
	fmt.Fprintf(tw, "accepted/s\tp50 %d, p90 %d, p99 %d, max %d\n",
		r.AcceptedPerSecond.P50, r.AcceptedPerSecond.P90, r.AcceptedPerSecond.P99, r.MaxAcceptedPerSecond)
	fmt.Fprintf(tw, "callers\t%d requests: %d without a token, %d degraded; served below the floor %d, below the hard minimum %d, expired %d\n",
		r.Requests, r.Unserved, r.DegradedServed, r.BelowFloorServed, r.BelowHardMinServed, r.ExpiredServed)
	fmt.Fprintf(tw, "ready\tall hosts %s, median host %s, p99 host %s after the event; %d hosts not ready at the end\n",
		seconds(r.AllReadySeconds), seconds(r.MedianHostReadySeconds), seconds(r.P99HostReadySeconds), r.HostsNotReady)
	fmt.Fprintf(tw, "simulated in\t%v\n", took.Round(10*time.Millisecond))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nattempts per second, seconds:")
	for _, b := range r.AttemptsHistogram {
		fmt.Fprintf(w, "  %6d..%-6d %5d\n", b.Low, b.High, b.Seconds)
	}
	fmt.Fprintln(w, "\nminute  attempts  accepted  most attempts in a second")
	for _, m := range r.PerMinute {
		if m.Minute < 10 || m.Minute%5 == 0 {
			fmt.Fprintf(w, "%6d  %8d  %8d  %8d\n", m.Minute, m.Attempts, m.Accepted, m.MaxPerSec)
		}
	}
	return nil
}

func seconds(s float64) string {
	if s < 0 {
		return "never"
	}
	return fmt.Sprintf("%.1fs", s)
}
