package refresher_test

import (
	"context"
	"testing"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/refresher"
)

// TestWallClockSteps steps the wall clock without the monotonic clock, as
// NTP, an operator or a suspend does, and checks that no caller is handed
// a token that is expired or below the floor by either clock.
func TestWallClockSteps(t *testing.T) {
	tests := []struct {
		name string
		step time.Duration
	}{
		{"backwards 2h", -2 * time.Hour},
		{"forwards 50m", 50 * time.Minute},
		{"suspend 3h", 3 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, testKeySecret, "reader")
			ctx := context.Background()
			p := roleParams("reader")
			e.Ref.Warm(ctx, []ossd.Params{p})
			first := e.Get(p)
			fetchedMono := e.Clock.Mono()
			e.Clock.Advance(10 * time.Minute)
			e.Clock.StepWall(tc.step)
			for range 6 * 60 { // six hours in one-minute steps
				e.Ref.RefreshDue(ctx)
				c := e.Get(p)
				// The lifetime STS gave, minus the real (monotonic) time since.
				left := c.Expiration.Sub(e.Clock.Now())
				if c == first {
					left = min(left, time.Hour-(e.Clock.Mono()-fetchedMono))
				}
				if left <= refresher.DefaultHardMin {
					t.Fatalf("handed out %s with %v left", c.AccessKeyID, left)
				}
				e.Clock.Advance(time.Minute)
			}
			if e.STS.Calls() < 10 {
				t.Errorf("%d STS calls in six hours, want renewals to continue", e.STS.Calls())
			}
		})
	}
}
