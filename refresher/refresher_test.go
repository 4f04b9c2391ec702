package refresher_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/localsts"
	"github.com/ossd/ossd/internal/logtest"
	"github.com/ossd/ossd/refresher"
)

func TestColdStampedeMakesOneCall(t *testing.T) {
	e := newEnv(t, testKeySecret, "reader")
	p := roleParams("reader")
	const n = 1000
	got := make([]ossd.Credentials, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			got[i], errs[i] = e.Ref.Get(context.Background(), p)
		}()
	}
	close(start)
	wg.Wait()
	if calls := e.STS.Calls(); calls != 1 {
		t.Errorf("AssumeRole calls = %d, want 1", calls)
	}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if got[i] != got[0] {
			t.Fatalf("caller %d got %s, caller 0 got %s", i, got[i].AccessKeyID, got[0].AccessKeyID)
		}
	}
	if !got[0].Valid(e.Clock.Now(), refresher.DefaultFloor) {
		t.Errorf("credentials expire %v, want more than the floor after %v", got[0].Expiration, e.Clock.Now())
	}
	if want := e.STS.Issued()[0].AccessKeyID; got[0].AccessKeyID != want {
		t.Errorf("AccessKeyID = %q, want the issued %q", got[0].AccessKeyID, want)
	}
}

func TestCallerGivingUpDoesNotCancelOthers(t *testing.T) {
	e := newEnv(t, testKeySecret, "reader")
	e.STS.FailNext(1, localsts.Fault{Delay: 300 * time.Millisecond})
	p := roleParams("reader")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := e.Ref.Get(context.Background(), p); done <- err }()
	if _, err := e.Ref.Get(ctx, p); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("impatient caller: err = %v, want deadline exceeded", err)
	}
	if err := <-done; err != nil {
		t.Errorf("patient caller: %v", err)
	}
	if calls := e.STS.Calls(); calls != 1 {
		t.Errorf("AssumeRole calls = %d, want 1", calls)
	}
}

// TestFortyEightHours drives several roles through 48 simulated hours in
// one-minute steps. Background renewal runs at each step; callers then ask
// for every role. No caller may trigger an STS call, and every token handed
// out must have more than the floor left.
func TestFortyEightHours(t *testing.T) {
	roles := []string{"reader", "writer", "audit", "backup"}
	e := newEnv(t, testKeySecret, roles...)
	ctx := context.Background()
	var ps []ossd.Params
	for _, r := range roles {
		ps = append(ps, roleParams(r))
	}
	if errs := e.Ref.Warm(ctx, ps); len(errs) != 0 {
		t.Fatalf("Warm: %v", errs)
	}
	seen := map[string]bool{}
	for step := 0; step < 48*60; step++ {
		e.Clock.Advance(time.Minute)
		e.Ref.RefreshDue(ctx)
		before := e.STS.Calls()
		now := e.Clock.Now()
		for _, p := range ps {
			c := e.Get(p)
			if left := c.Expiration.Sub(now); left <= refresher.DefaultFloor {
				t.Fatalf("at %v %s handed out with %v left, want more than %v", now, p.RoleARN, left, refresher.DefaultFloor)
			}
			seen[c.AccessKeyID] = true
		}
		if after := e.STS.Calls(); after != before {
			t.Fatalf("at %v callers made %d STS calls, want 0 once warm", now, after-before)
		}
	}
	// One-hour tokens renewed 34-39 minutes after each fetch (see
	// refreshIn): about 79 per role in 48 hours.
	if n := len(seen); n < 4*73 || n > 4*86 {
		t.Errorf("distinct tokens served = %d, want about 4×79", n)
	}
	if calls := e.STS.Calls(); calls != e.STS.Successes() {
		t.Errorf("%d of %d STS calls failed", calls-e.STS.Successes(), calls)
	}
}

func TestRenewalsSpreadOut(t *testing.T) {
	roles := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	e := newEnv(t, testKeySecret, roles...)
	var ps []ossd.Params
	for _, r := range roles {
		ps = append(ps, roleParams(r))
	}
	e.Ref.Warm(context.Background(), ps)
	calls := e.STS.Calls()
	perMinute := map[int]int{}
	for m := 1; m <= 60; m++ {
		e.Clock.Advance(time.Minute)
		e.Ref.RefreshDue(context.Background())
		perMinute[m] = e.STS.Calls() - calls
		calls = e.STS.Calls()
	}
	busiest := 0
	for _, n := range perMinute {
		busiest = max(busiest, n)
	}
	if busiest == len(roles) {
		t.Errorf("all %d roles renewed in the same minute; want jitter to spread them", len(roles))
	}
}

func TestRunRenewsOnFakeClock(t *testing.T) {
	e := newEnv(t, testKeySecret, "reader")
	p := roleParams("reader")
	e.Ref.Warm(context.Background(), []ossd.Params{p})
	first := e.Get(p)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- e.Ref.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	}()
	waitFor(t, "Run to arm its timer", func() bool { return e.Clock.Timers() > 0 })
	e.Clock.Advance(40 * time.Minute) // past half-life plus jitter, before the floor
	waitFor(t, "background renewal", func() bool { return e.Get(p).AccessKeyID != first.AccessKeyID })
	if calls := e.STS.Calls(); calls != 2 {
		t.Errorf("AssumeRole calls = %d, want 2", calls)
	}
}

// waitFor polls cond; it synchronises with goroutines and asserts nothing
// about timing.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestWrongSourceSecret(t *testing.T) {
	e := newEnv(t, "not-the-right-secret", "reader")
	_, err := e.Ref.Get(context.Background(), roleParams("reader"))
	if err == nil {
		t.Fatal("Get succeeded with a wrong secret")
	}
	if code := ossd.ErrorCode(err); code != "SignatureDoesNotMatch" {
		t.Errorf("code = %q, want SignatureDoesNotMatch (err: %v)", code, err)
	}
	if !strings.Contains(err.Error(), roleParams("reader").RoleARN) {
		t.Errorf("error %q does not name the role", err)
	}
	logtest.NoSecrets(t, "error", err.Error(), "not-the-right-secret")
}
