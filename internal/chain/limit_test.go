package chain_test

import (
	"context"
	"testing"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/testenv"
)

// TestChildWithColdParentAtOneSlot: a chained role's fetch takes its
// rate-limit slot and only then asks for its parent's token, whose fetch
// needs a slot of its own. When the limiter has one slot (sts.max_qps below
// 2, or an adaptive rate cut below 2/s by throttling), the parent's fetch
// waits for the slot the child holds until both time out: a caller asking
// for the child while the parent has no token is refused however long it
// waits, and the parent is not fetched either. The fake clock is advanced
// so that slots held after an answer do come free.
func TestChildWithColdParentAtOneSlot(t *testing.T) {
	env := testenv.New(t, testenv.Options{MaxQPS: 1, Timeout: 30 * time.Second}, "hub", "app")
	env.Service.Install(hubAndApp()) // no warm-up: both are cold
	done := make(chan error, 1)
	go func() {
		_, err := env.Service.Credentials(context.Background(), "app", "")
		done <- err
	}()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("app with a cold hub at max_qps 1: %v (STS calls: hub %d, app %d)", err, countCalls(env, "hub"), countCalls(env, "app"))
			}
			return
		case <-tick.C:
			env.Clock.Advance(500 * time.Millisecond)
		case <-deadline:
			t.Fatal("no answer within 30 s")
		}
	}
}

// TestBackgroundChildWithColdParentAtOneSlot: the same in background
// renewal, where the slot is taken before the fetch starts: a chained
// role's renewal finds its parent without a token (here: never fetched)
// and must give its slot back while the parent is fetched, so that one
// pass of RefreshDue fetches both. The clock is advanced beside it, as
// real time would pass, so that slots held after an answer come free.
func TestBackgroundChildWithColdParentAtOneSlot(t *testing.T) {
	env := testenv.New(t, testenv.Options{MaxQPS: 1, Timeout: 30 * time.Second}, "hub", "app")
	roles := hubAndApp()
	env.Ref.Start([]ossd.Params{roles[1].Params}) // the child alone is due; its parent is cold
	done := make(chan struct{})
	go func() {
		defer close(done)
		env.Ref.RefreshDue(context.Background())
	}()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		case <-tick.C:
			env.Clock.Advance(500 * time.Millisecond)
		case <-deadline:
			t.Fatal("RefreshDue did not return within 30 s")
		}
	}
	if hub, app := countCalls(env, "hub"), countCalls(env, "app"); hub != 1 || app != 1 {
		t.Errorf("one renewal pass at max_qps 1 made %d calls for hub and %d for app, want 1 and 1", hub, app)
	}
}
