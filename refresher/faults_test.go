package refresher_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/localsts"
	"github.com/ossd/ossd/refresher"
)

// TestSTSOutage keeps STS failing far past a refresh interval. Callers must
// keep getting the cached token while it has more than the hard minimum
// left, then a clear error naming the STS code, never an expired token; once
// STS recovers, service resumes without a restart.
func TestSTSOutage(t *testing.T) {
	faults := []struct {
		name string
		f    localsts.Fault
		code string
	}{
		{"5xx", localsts.Fault{Code: "ServiceUnavailable"}, "ServiceUnavailable"},
		{"throttling", localsts.Fault{Code: "Throttling.User"}, "Throttling.User"},
		{"reset", localsts.Fault{Reset: true}, ""},
		{"malformed", localsts.Fault{Malformed: true}, "SDK.JsonUnmarshalError"},
	}
	for _, tc := range faults {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, testKeySecret, "reader")
			ctx := context.Background()
			p := roleParams("reader")
			warm := e.Get(p)
			e.STS.SetFault(tc.f)
			var lastErr error
			for now := e.Clock.Now(); e.Clock.Now().Before(warm.Expiration.Add(time.Minute)); now = e.Clock.Now() {
				e.Clock.Advance(30 * time.Second)
				e.Ref.RefreshDue(ctx)
				now = e.Clock.Now()
				c, err := e.Ref.Get(ctx, p)
				left := warm.Expiration.Sub(now)
				switch {
				case left > refresher.DefaultHardMin:
					if err != nil || c != warm {
						t.Fatalf("%v left: got (%s, %v), want the cached token", left, c.AccessKeyID, err)
					}
				case err == nil:
					t.Fatalf("%v left: handed out %s, want an error below the hard minimum", left, c.AccessKeyID)
				default:
					lastErr = err
				}
			}
			if !errors.Is(lastErr, refresher.ErrNoCredentials) {
				t.Fatalf("error = %v, want ErrNoCredentials", lastErr)
			}
			if tc.code != "" && !strings.Contains(lastErr.Error(), tc.code) {
				t.Errorf("error %q does not name %s", lastErr, tc.code)
			}
			if ossd.ErrorCode(lastErr) == "" {
				t.Errorf("error %q carries no STS code", lastErr)
			}
			failed := e.STS.Calls()
			if failed < 3 {
				t.Errorf("STS calls during outage = %d, want retries", failed)
			}
			e.STS.ClearFault()
			e.Clock.Advance(refresherMaxBackoff(tc.name))
			e.Ref.RefreshDue(ctx)
			c := e.Get(p)
			if !c.Valid(e.Clock.Now(), refresher.DefaultFloor) || c == warm {
				t.Errorf("after recovery got %s expiring %v, want a fresh token", c.AccessKeyID, c.Expiration)
			}
		})
	}
}

func refresherMaxBackoff(name string) time.Duration {
	if name == "throttling" {
		return 6 * time.Minute
	}
	return 3 * time.Minute
}

// TestThrottlingSlowsDown checks that a throttled STS sees fewer calls than
// one failing with 5xx over the same time.
func TestThrottlingSlowsDown(t *testing.T) {
	count := func(f localsts.Fault) int {
		e := newEnv(t, testKeySecret, "reader")
		e.Ref.Warm(context.Background(), []ossd.Params{roleParams("reader")})
		base := e.STS.Calls()
		e.STS.SetFault(f)
		for range 60 {
			e.Clock.Advance(time.Minute)
			e.Ref.RefreshDue(context.Background())
		}
		return e.STS.Calls() - base
	}
	throttled, failing := count(localsts.Fault{Code: "Throttling.User"}), count(localsts.Fault{Code: "InternalError"})
	if throttled >= failing {
		t.Errorf("calls in an hour: throttled %d, 5xx %d; want throttling to slow renewal down", throttled, failing)
	}
}

func TestShortLivedTokenIsServedAndRenewed(t *testing.T) {
	e := newEnv(t, testKeySecret, "reader")
	e.STS.SetTokenLifetime(10 * time.Minute)
	p := roleParams("reader")
	c := e.Get(p)
	if left := c.Expiration.Sub(e.Clock.Now()); left != 10*time.Minute {
		t.Fatalf("token lifetime = %v, want 10m", left)
	}
	e.Clock.Advance(6 * time.Minute) // 4 min left: below the hard minimum
	e.Ref.RefreshDue(context.Background())
	c2 := e.Get(p)
	if c2 == c || !c2.Valid(e.Clock.Now(), refresher.DefaultHardMin) {
		t.Errorf("got %s with %v left, want a renewed token", c2.AccessKeyID, c2.Expiration.Sub(e.Clock.Now()))
	}
}

// TestFreshTokenBelowHardMinimumRefused: a token that arrives with no more
// than the hard minimum left is never handed out, even straight from STS.
func TestFreshTokenBelowHardMinimumRefused(t *testing.T) {
	e := newEnv(t, testKeySecret, "reader")
	e.STS.SetTokenLifetime(4 * time.Minute)
	_, err := e.Ref.Get(context.Background(), roleParams("reader"))
	if !errors.Is(err, refresher.ErrNoCredentials) || ossd.ErrorCode(err) != "ossd.ShortToken" {
		t.Errorf("err = %v, want ErrNoCredentials with ossd.ShortToken", err)
	}
}
