package fleet

import (
	"slices"
	"time"
)

// Result is what a run measured, over the measured time only (not the
// warm-up). Times are seconds of simulated time.
type Result struct {
	Hosts    int    `json:"hosts"`
	Roles    int    `json:"roles"`
	Duration string `json:"duration"` // of every role's session
	Run      string `json:"run"`      // simulated time measured
	Event    string `json:"event"`    // steady, restart or reboot
	At       string `json:"event_at"` // when, from the start
	Limit    int    `json:"limit_per_second"`

	Attempts               int64       `json:"attempts"`
	Accepted               int64       `json:"accepted"`
	Throttled              int64       `json:"throttled"`
	MaxAttemptsPerSecond   int         `json:"max_attempts_per_second"`
	MaxAcceptedPerSecond   int         `json:"max_accepted_per_second"`
	AttemptsPerSecond      Percentiles `json:"attempts_per_second"`
	AcceptedPerSecond      Percentiles `json:"accepted_per_second"`
	SecondsOverLimit       int         `json:"seconds_over_limit"` // seconds with more attempts than the limit
	AttemptsHistogram      []Bucket    `json:"attempts_histogram"`
	AcceptedPerRoleHour    float64     `json:"accepted_per_role_hour"`
	StuckRefreshDueCalls   int64       `json:"stuck_refresh_due_calls"` // RefreshDue due again at once with nothing done: a bug
	RestoredTokens         int64       `json:"restored_tokens"`         // --restart: kept tokens Refresher.Restore installed
	RefusedTokens          int64       `json:"refused_tokens"`          // --restart: kept tokens it refused (fetched again)
	Requests               int64       `json:"requests"`                // callers' requests
	Unserved               int64       `json:"unserved"`                // answered with no token (a caller would wait on STS)
	DegradedServed         int64       `json:"degraded_served"`         // served below the floor by the refresher's own reading
	BelowFloorServed       int64       `json:"below_floor_served"`      // by the account's expiry, above the hard minimum
	BelowHardMinServed     int64       `json:"below_hard_minimum_served"`
	ExpiredServed          int64       `json:"expired_served"`
	AllReadySeconds        float64     `json:"all_ready_seconds"`         // event to every host having every role above the floor; -1: not within the run
	MedianHostReadySeconds float64     `json:"median_host_ready_seconds"` // -1 if half the hosts were not ready
	P99HostReadySeconds    float64     `json:"p99_host_ready_seconds"`
	HostsNotReady          int         `json:"hosts_not_ready"` // at the end of the run
	PerMinute              []Minute    `json:"per_minute"`
}

func (s *sim) result() *Result {
	o, st := s.o, s.st
	r := &Result{
		Hosts: o.Hosts, Roles: o.Roles, Duration: o.Duration.String(), Run: o.Run.String(),
		Event: o.Event.String(), At: o.At.String(), Limit: o.Limit,
		Attempts: sum(st.attempts), Accepted: sum(st.accepted), Throttled: st.throttled,
		AttemptsPerSecond: percentiles(st.attempts), AcceptedPerSecond: percentiles(st.accepted),
		AttemptsHistogram:    histogram(st.attempts, o.Limit),
		StuckRefreshDueCalls: s.stuck, RestoredTokens: s.restored, RefusedTokens: s.refused,
		Requests: st.requests, Unserved: st.unserved, DegradedServed: st.degraded,
		BelowFloorServed: st.belowFloor, BelowHardMinServed: st.belowHard, ExpiredServed: st.expired,
		PerMinute: minutes(st.attempts, st.accepted),
	}
	r.MaxAttemptsPerSecond, r.MaxAcceptedPerSecond = r.AttemptsPerSecond.Max, r.AcceptedPerSecond.Max
	for _, n := range st.attempts {
		if int(n) > o.Limit {
			r.SecondsOverLimit++
		}
	}
	r.AcceptedPerRoleHour = float64(r.Accepted) / float64(o.Hosts*o.Roles) / o.Run.Hours()
	r.AllReadySeconds, r.MedianHostReadySeconds, r.P99HostReadySeconds, r.HostsNotReady = s.readiness()
	return r
}

// readiness reports, in seconds from the event, when the last host, the
// median host and the 99th-percentile host had every role, and how many
// never did within the run; -1 stands for "not within the run".
func (s *sim) readiness() (all, median, p99 float64, notReady int) {
	ready := make([]time.Duration, 0, len(s.daemons))
	for _, d := range s.daemons {
		if d.readyAt < 0 {
			notReady++
			continue
		}
		ready = append(ready, d.readyAt-s.o.At)
	}
	slices.Sort(ready)
	at := func(q float64) float64 {
		i := int(q * float64(len(s.daemons)))
		if i >= len(ready) {
			return -1
		}
		return ready[i].Seconds()
	}
	all = -1
	if notReady == 0 {
		all = ready[len(ready)-1].Seconds()
	}
	return all, at(0.5), at(0.99), notReady
}
