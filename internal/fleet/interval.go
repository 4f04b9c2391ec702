package fleet

import (
	"context"
	"time"

	"github.com/ossd/ossd/cache"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/refresher"
)

// probeRoles is how many fetches renewalInterval averages over.
const probeRoles = 512

// renewalInterval measures the mean time from a fetch to its scheduled
// renewal with o's settings, from the refresher itself: one refresher
// fetches probeRoles roles once, against an STS without a limit, and the
// renewal times it scheduled are read back. It does not compute the
// schedule: a change of the refresher's rule changes what it measures.
func renewalInterval(o Options) time.Duration {
	clk := clock.NewFake(simEpoch())
	acct := newAccount(1, simEpoch()) // not limited: the limit is switched on only for the measured time
	ref := refresher.New(refresher.Options{
		Fetcher: acct.fetcher(), Cache: cache.New(1), Clock: clk, MaxQPS: 1e9,
		Floor: o.Floor, HardMin: o.HardMin, OutageMargin: o.OutageMargin, Spread: o.Spread,
		Seed: seed(o.Seed, -1, 0), Workers: 1,
	})
	entries := ref.Start(roles(probeRoles, o.Duration))
	ref.RefreshDue(context.Background())
	var total time.Duration
	n := 0
	for _, e := range entries {
		if s := e.State(); s != nil && s.Err == nil {
			total += s.RefreshAt - s.Fetched
			n++
		}
	}
	if n == 0 {
		return o.Duration / 2
	}
	return total / time.Duration(n)
}
