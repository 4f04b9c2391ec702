package refresher_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/refresher"
)

// kept returns a token for p issued by another env's STS at testenv.Epoch,
// as a previous run of the daemon would have left it.
func kept(t *testing.T, p ossd.Params) ossd.Credentials {
	t.Helper()
	prev := newEnv(t, testKeySecret, "reader")
	return prev.Get(p)
}

func TestRestoredTokenIsServedWithoutACall(t *testing.T) {
	p := roleParams("reader")
	c := kept(t, p)
	e := newEnv(t, testKeySecret, "reader")
	e.Clock.Advance(20 * time.Minute) // 40 min left
	if err := e.Ref.Restore(p, c, true); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if errs := e.Ref.Warm(context.Background(), []ossd.Params{p}); len(errs) != 0 {
		t.Fatalf("Warm: %v", errs)
	}
	if got := e.Get(p); got != c {
		t.Errorf("Get = %s, want the restored %s", got.AccessKeyID, c.AccessKeyID)
	}
	if calls := e.STS.Calls(); calls != 0 {
		t.Errorf("AssumeRole calls = %d, want 0", calls)
	}
	e.CheckLogs(c.AccessKeySecret.Reveal(), c.SecurityToken.Reveal())
}

// TestRestoredTokenIsRenewedOnSchedule: the restored token, issued 20 min
// ago, is renewed when a daemon that kept running would have renewed it:
// 34-39 min after its issue (the renewal point and the spread before it),
// so 14-19 min from now, well before the floor.
func TestRestoredTokenIsRenewedOnSchedule(t *testing.T) {
	p := roleParams("reader")
	c := kept(t, p)
	e := newEnv(t, testKeySecret, "reader")
	e.Clock.Advance(20 * time.Minute)
	if err := e.Ref.Restore(p, c, true); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	ctx := context.Background()
	next := e.Ref.RefreshDue(ctx) - e.Clock.Mono()
	if next < 14*time.Minute-time.Second || next > 19*time.Minute+time.Second {
		t.Errorf("renewal due in %v, want 14m..19m from now (34m..39m from its issue)", next)
	}
	e.Clock.Advance(next)
	e.Ref.RefreshDue(ctx)
	if calls := e.STS.Calls(); calls != 1 {
		t.Fatalf("AssumeRole calls after the renewal point = %d, want 1", calls)
	}
	if got := e.Get(p); got.AccessKeyID == c.AccessKeyID {
		t.Error("still serving the restored token after its renewal")
	}
}

func TestRestoreRefusesWhatDoesNotQualify(t *testing.T) {
	p := roleParams("reader")
	c := kept(t, p)
	tests := []struct {
		name   string
		change func(e *testenv.Env, c *ossd.Credentials)
		want   string
	}{
		{"too little left", func(e *testenv.Env, _ *ossd.Credentials) { e.Clock.Advance(44 * time.Minute) }, "no more than the floor"},
		{"expired", func(e *testenv.Env, _ *ossd.Credentials) { e.Clock.Advance(2 * time.Hour) }, "expired"},
		{"issued in the future", func(e *testenv.Env, _ *ossd.Credentials) { e.Clock.StepWall(-time.Minute) }, "after now"},
		{"longer than requested", func(_ *testenv.Env, c *ossd.Credentials) { c.Expiration = c.LastUpdated.Add(3 * time.Hour) }, "longer than"},
		{"no issue time", func(_ *testenv.Env, c *ossd.Credentials) { c.LastUpdated = time.Time{} }, "issued"},
		{"incomplete", func(_ *testenv.Env, c *ossd.Credentials) { c.SecurityToken = ossd.Token{} }, "incomplete"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, testKeySecret, "reader")
			c := c
			tc.change(e, &c)
			err := e.Ref.Restore(p, c, true)
			if !errors.Is(err, refresher.ErrNotRestorable) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Restore = %v, want ErrNotRestorable saying %q", err, tc.want)
			}
			if _, ok := e.Cache.Get(p.Key()); ok {
				t.Error("a refused token left an entry in the cache")
			}
			if got, err := e.Ref.Get(context.Background(), p); err == nil && got.AccessKeyID == c.AccessKeyID {
				t.Error("the refused token was served")
			}
			if calls := e.STS.Calls(); calls != 1 {
				t.Errorf("AssumeRole calls = %d, want 1 (STS asked instead)", calls)
			}
		})
	}
}

func TestRestoreNeverReplacesAToken(t *testing.T) {
	p := roleParams("reader")
	c := kept(t, p)
	e := newEnv(t, testKeySecret, "reader")
	fresh := e.Get(p)
	if err := e.Ref.Restore(p, c, true); !errors.Is(err, refresher.ErrNotRestorable) {
		t.Fatalf("Restore over a fetched token = %v, want ErrNotRestorable", err)
	}
	if got := e.Get(p); got != fresh {
		t.Errorf("Get = %s, want the fetched %s", got.AccessKeyID, fresh.AccessKeyID)
	}
}

// TestRestoredSessionIsOnDemand: an on-demand session comes back unpinned,
// and, like a fetched one, is renewed only once a caller uses it.
func TestRestoredSessionIsOnDemand(t *testing.T) {
	p := roleParams("reader")
	p.SessionName += "-job1"
	c := kept(t, p)
	e := newEnv(t, testKeySecret, "reader")
	if err := e.Ref.Restore(p, c, false); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	en, ok := e.Cache.Get(p.Key())
	if !ok || en.Pinned() {
		t.Fatalf("restored session: cached %v, pinned %v; want cached, unpinned", ok, ok && en.Pinned())
	}
	e.Clock.Advance(40 * time.Minute)
	e.Ref.RefreshDue(context.Background())
	if calls := e.STS.Calls(); calls != 0 {
		t.Errorf("AssumeRole calls for an unused restored session = %d, want 0", calls)
	}
}

// TestRestoredLifeNeverExceedsTheDuration: a token whose Expiration is a
// little later than its duration allows (STS's clock ahead of ours) is
// restored, but taken to last only its duration from its LastUpdated.
func TestRestoredLifeNeverExceedsTheDuration(t *testing.T) {
	p := roleParams("reader")
	c := kept(t, p)
	c.Expiration = c.LastUpdated.Add(p.Duration + 30*time.Second)
	e := newEnv(t, testKeySecret, "reader")
	e.Clock.Advance(20 * time.Minute)
	if err := e.Ref.Restore(p, c, true); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	en, _ := e.Cache.Get(p.Key())
	if got, want := en.State().Remaining(e.Clock.Now(), e.Clock.Mono()), 40*time.Minute; got != want {
		t.Errorf("Remaining = %v, want %v (the duration from LastUpdated)", got, want)
	}
}
