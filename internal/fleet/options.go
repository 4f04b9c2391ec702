package fleet

import (
	"errors"
	"fmt"
	"time"

	"github.com/ossd/ossd/refresher"
)

// Event is what happens to every daemon at once at Options.At.
type Event int

// The events the simulator knows.
const (
	// Steady: nothing; the fleet keeps renewing.
	Steady Event = iota
	// Restart: every daemon restarts keeping its tokens, as a DaemonSet
	// rollout does with a token store in the runtime directory.
	Restart
	// Reboot: every daemon restarts with its tokens lost, as a node-pool
	// replacement does.
	Reboot
)

// String returns the event's name: steady, restart or reboot.
func (e Event) String() string {
	switch e {
	case Restart:
		return "restart"
	case Reboot:
		return "reboot"
	}
	return "steady"
}

// Options describe a fleet and what happens to it. Zero fields take the
// defaults shown.
type Options struct {
	Hosts    int           // daemons; 10,000
	Roles    int           // configured roles per daemon; 20
	Duration time.Duration // session duration of every role; 1h
	Run      time.Duration // simulated time measured, from the start; 1h
	Event    Event
	At       time.Duration // when Event happens, from the start; 0
	// Warmup is simulated before the start: every daemon starts its roles
	// spread evenly over it, against an STS without a limit, so that the
	// measured time begins in steady state. Default: the mean time from a
	// fetch to its renewal, measured from the refresher's own schedule
	// (see renewalInterval), so that renewals are as spread out as after
	// a long run.
	Warmup time.Duration
	// Limit is the account's AssumeRole calls per second; 100 (SPEC §6).
	Limit int
	// The refresher's settings, as in [refresher.Options] (ossd's config
	// sts.max_qps and [refresh]); zero means the refresher's default.
	MaxQPS       float64
	Floor        time.Duration
	HardMin      time.Duration
	OutageMargin time.Duration
	Spread       time.Duration
	StartSpread  time.Duration // for the daemons started by Event
	// Each daemon's callers ask for every role once per period, drawn
	// anew each time uniformly from [CallerMin, CallerMax]; 30s..60s.
	CallerMin, CallerMax time.Duration
	Seed                 uint64 // 0 = 1
}

func (o Options) withDefaults() Options {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if o.Hosts == 0 {
		o.Hosts = 10_000
	}
	if o.Roles == 0 {
		o.Roles = 20
	}
	if o.Limit == 0 {
		o.Limit = 100
	}
	if o.MaxQPS == 0 {
		o.MaxQPS = refresher.DefaultMaxQPS
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	def(&o.Duration, time.Hour)
	def(&o.Run, time.Hour)
	def(&o.Floor, refresher.DefaultFloor)
	def(&o.HardMin, refresher.DefaultHardMin)
	def(&o.OutageMargin, refresher.DefaultOutageMargin)
	def(&o.Spread, refresher.DefaultSpread)
	def(&o.CallerMin, 30*time.Second)
	def(&o.CallerMax, 60*time.Second)
	return o
}

func (o Options) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if o.Hosts < 1 || o.Roles < 1 || o.Hosts*o.Roles > 10_000_000 {
		bad("hosts x roles = %d x %d: want each at least 1 and at most 10,000,000 in all", o.Hosts, o.Roles)
	}
	if o.Duration < 2*o.Floor {
		bad("duration %s: want at least twice the floor (%s)", o.Duration, o.Floor)
	}
	if o.Run <= 0 || o.At < 0 || o.At >= o.Run {
		bad("run %s, at %s: want 0 <= at < run", o.Run, o.At)
	}
	if o.Limit < 1 {
		bad("limit %d: want at least 1 call per second", o.Limit)
	}
	if o.CallerMin <= 0 || o.CallerMax < o.CallerMin {
		bad("callers every %s..%s: want 0 < min <= max", o.CallerMin, o.CallerMax)
	}
	if o.HardMin >= o.Floor {
		bad("hard minimum %s: want less than the floor (%s)", o.HardMin, o.Floor)
	}
	return errors.Join(errs...)
}
