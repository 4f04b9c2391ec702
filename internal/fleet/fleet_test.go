package fleet

import (
	"context"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/ossd/ossd"
)

// small is a fleet scaled down from 10,000 hosts x 20 roles at 100 calls a
// second to 500 x 4 at 2 a second. Scaling the limit down makes a second's
// chance bursts larger against it (at 100/s they are a tenth of it, at
// 2/s a whole second's worth), so the small fleet uses about half its
// limit in steady state where the large one uses 0.9 of it. A reboot
// needs at least 1,000 s of calls at the limit.
func small(ev Event) Options {
	return Options{Hosts: 500, Roles: 4, Limit: 2, Event: ev, Run: time.Hour, Seed: 7}
}

// TestInvariants runs each event on the small fleet and checks what must
// hold whatever the constants: no expired token and none below the hard
// minimum is ever served, STS never accepts more than its limit in a
// second, every host ends up with every role, and no reboot beats the
// bound the limit sets.
func TestInvariants(t *testing.T) {
	for _, ev := range []Event{Steady, Restart, Reboot} {
		t.Run(ev.String(), func(t *testing.T) {
			o := small(ev)
			r, err := Run(t.Context(), o)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d attempts, %d accepted, %d throttled, max %d/s; ready: all %.0fs, median %.0fs; %d requests, %d degraded, %d unserved",
				ev, r.Attempts, r.Accepted, r.Throttled, r.MaxAttemptsPerSecond, r.AllReadySeconds, r.MedianHostReadySeconds, r.Requests, r.DegradedServed, r.Unserved)
			if r.ExpiredServed != 0 || r.BelowHardMinServed != 0 {
				t.Errorf("served %d expired tokens and %d below the hard minimum, want none", r.ExpiredServed, r.BelowHardMinServed)
			}
			if r.MaxAcceptedPerSecond > o.Limit {
				t.Errorf("STS accepted %d calls in one second, limit %d", r.MaxAcceptedPerSecond, o.Limit)
			}
			if r.HostsNotReady != 0 || r.AllReadySeconds < 0 {
				t.Errorf("%d hosts not ready after %v", r.HostsNotReady, o.Run)
			}
			if r.StuckRefreshDueCalls != 0 {
				t.Errorf("RefreshDue asked %d times to be called again at once with nothing done", r.StuckRefreshDueCalls)
			}
			if r.Requests == 0 || r.Accepted == 0 {
				t.Errorf("%d requests, %d calls accepted: nothing simulated", r.Requests, r.Accepted)
			}
			switch ev {
			case Restart:
				if r.AllReadySeconds > 1 {
					t.Errorf("restart keeping tokens: every host ready after %.1fs, want within 1s", r.AllReadySeconds)
				}
			case Reboot:
				bound := float64(o.Hosts*o.Roles/o.Limit) - 1
				if r.AllReadySeconds < bound || r.Throttled == 0 {
					t.Errorf("reboot: every host ready after %.0fs with %d throttled; no fleet can be before %.0fs at the limit",
						r.AllReadySeconds, r.Throttled, bound)
				}
			}
		})
	}
}

// TestDeterministic: the same seed gives the same run, to the call.
func TestDeterministic(t *testing.T) {
	o := small(Reboot)
	o.Hosts, o.Run = 100, 20*time.Minute
	a, err := Run(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("two runs with seed %d differ:\n%+v\n%+v", o.Seed, a, b)
	}
}

// TestTruthJudgesServedTokens: what callers are served is judged by the
// expiry the account wrote when it issued the token, not by anything the
// token says of itself.
func TestTruthJudgesServedTokens(t *testing.T) {
	a := newAccount(100, simEpoch())
	a.set(10 * time.Second)
	c, err := a.assumeRole(ossd.Params{Duration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	forged := c
	forged.Expiration = forged.Expiration.Add(time.Hour) // claims more life than it has
	st := newStats(time.Hour)
	var tr truth
	// Issued at 10 s for an hour: the account's expiry is 1h0m10s.
	for _, at := range []time.Duration{50 * time.Minute, 59 * time.Minute, time.Hour + 11*time.Second} {
		st.served("hit", tr.left(a, forged, at), 16*time.Minute, 5*time.Minute)
	}
	if st.belowFloor != 1 || st.belowHard != 1 || st.expired != 1 {
		t.Errorf("below floor %d, below hard minimum %d, expired %d; want 1 each", st.belowFloor, st.belowHard, st.expired)
	}
	if left := new(truth).left(a, ossd.Credentials{AccessKeyID: "STS.999"}, 0); left > 0 {
		t.Errorf("a token the account never issued has %v left, want none", left)
	}
}

// TestThrottledAboveLimit: the account accepts limit calls in a simulated
// second and answers Throttling.User to the rest, and counts both.
func TestThrottledAboveLimit(t *testing.T) {
	a := newAccount(3, simEpoch())
	a.limited, a.stats = true, newStats(time.Minute)
	a.set(1500 * time.Millisecond)
	var throttled int
	for range 5 {
		if _, err := a.assumeRole(ossd.Params{Duration: time.Hour}); ossd.IsThrottled(err) {
			throttled++
		}
	}
	a.set(2 * time.Second)
	if _, err := a.assumeRole(ossd.Params{Duration: time.Hour}); err != nil {
		t.Errorf("first call of the next second: %v", err)
	}
	if throttled != 2 || a.stats.attempts[1] != 5 || a.stats.accepted[1] != 3 || a.stats.throttled != 2 {
		t.Errorf("throttled %d of 5 (want 2); second 1: %d attempts, %d accepted", throttled, a.stats.attempts[1], a.stats.accepted[1])
	}
}

// TestFullFleet is the case, 10,000 hosts x 20 roles of 1 h, far
// too slow under the race detector for every run of the suite. Run it with
//
//	OSSD_FLEET_FULL=1 go test -run TestFullFleet -v ./internal/fleet
func TestFullFleet(t *testing.T) {
	if os.Getenv("OSSD_FLEET_FULL") == "" {
		t.Skip("set OSSD_FLEET_FULL=1 to simulate 10,000 hosts x 20 roles (about 20 s a run without -race)")
	}
	for _, ev := range []Event{Steady, Restart, Reboot} {
		r, err := Run(context.Background(), Options{Event: ev})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: max %d attempts/s, %d accepted/s, %d throttled; expired %d, below hard minimum %d, below floor %d; ready: all %.1fs, median %.1fs, %d not ready",
			ev, r.MaxAttemptsPerSecond, r.MaxAcceptedPerSecond, r.Throttled, r.ExpiredServed, r.BelowHardMinServed, r.BelowFloorServed,
			r.AllReadySeconds, r.MedianHostReadySeconds, r.HostsNotReady)
		if r.ExpiredServed != 0 || r.BelowHardMinServed != 0 || r.MaxAcceptedPerSecond > 100 || r.HostsNotReady != 0 {
			t.Errorf("%s: the issue's targets are not met", ev)
		}
		if ev == Restart && r.AllReadySeconds > 1 {
			t.Errorf("restart: every host ready after %.1fs, want within 1s", r.AllReadySeconds)
		}
	}
}
