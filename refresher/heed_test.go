package refresher_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/cache"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/refresher"
)

// TestThrottlingHeededBeforeNextCall: ten roles are due and STS answers
// the first call with Throttling. The call for the next role must not go
// out: RefreshDue takes an entry and its rate-limit slot only once a
// worker is free, and by then the answer has paused renewal. (Taking them
// first, then waiting for the worker, sent a second call into the
// throttling. The answer is slowed a little so that the loop would get
// there first.)
func TestThrottlingHeededBeforeNextCall(t *testing.T) {
	clk := clock.NewFake(testenv.Epoch)
	var calls atomic.Int64
	fetch := ossd.FetcherFunc(func(_ context.Context, p ossd.Params) (ossd.Credentials, error) {
		calls.Add(1)
		time.Sleep(20 * time.Millisecond) // real time: only widens the window the defect needs
		return ossd.Credentials{}, &ossd.STSError{Code: "Throttling.User"}
	})
	ref := refresher.New(refresher.Options{Fetcher: fetch, Cache: cache.New(10), Clock: clk, Seed: 1, Workers: 1})
	ps := make([]ossd.Params, 10)
	for i := range ps {
		ps[i] = roleParams(fmt.Sprintf("r%d", i))
	}
	ref.Start(ps)
	ref.RefreshDue(context.Background())
	if n := calls.Load(); n != 1 {
		t.Errorf("%d AssumeRole calls after the first was throttled, want 1", n)
	}
}
