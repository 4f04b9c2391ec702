package fleet

import (
	"context"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/ossd/ossd"
)

// account is the model of STS for one account: it accepts at most limit
// AssumeRole calls in each simulated second, counted from the start of the
// simulation, and answers Throttling.User above that. It issues every
// token with the expiry it would have at the real service and remembers
// it: that is the truth served tokens are judged by.
type account struct {
	limit int
	epoch time.Time // wall time at simulated time 0

	mu       sync.Mutex      // guards the fields below
	now      time.Duration   // simulated time, set by the loop before each step
	second   time.Duration   // the second being counted
	accepted int             // calls accepted in that second
	limited  bool            // whether limit applies yet (not during the warm-up)
	expires  []time.Duration // by token id: simulated time the token expires
	stats    *stats          // where measured calls are counted; nil during the warm-up
}

func newAccount(limit int, epoch time.Time) *account {
	return &account{limit: limit, epoch: epoch, second: -1}
}

// set moves the account to simulated time t.
func (a *account) set(t time.Duration) {
	a.mu.Lock()
	a.now = t
	a.mu.Unlock()
}

// fetcher returns the Fetcher a daemon calls STS through.
func (a *account) fetcher() ossd.Fetcher {
	return ossd.FetcherFunc(func(_ context.Context, p ossd.Params) (ossd.Credentials, error) {
		return a.assumeRole(p)
	})
}

func (a *account) assumeRole(p ossd.Params) (ossd.Credentials, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	sec := a.now.Truncate(time.Second)
	if sec != a.second {
		a.second, a.accepted = sec, 0
	}
	ok := !a.limited || a.accepted < a.limit
	if ok {
		a.accepted++
	}
	if a.stats != nil {
		a.stats.call(a.now, ok)
	}
	if !ok {
		return ossd.Credentials{}, &ossd.STSError{Code: "Throttling.User", Message: "Request was denied due to user flow control.", Status: 400}
	}
	// As the real service: issued now, expiring Duration later, in whole
	// seconds of its own clock (here the same clock as the hosts').
	issued := a.epoch.Add(a.now)
	exp := issued.Add(p.Duration).Truncate(time.Second)
	id := len(a.expires)
	a.expires = append(a.expires, exp.Sub(a.epoch))
	return ossd.Credentials{AccessKeyID: "STS." + strconv.Itoa(id), AccessKeySecret: "s", SecurityToken: ossd.NewToken("t"),
		Expiration: exp, LastUpdated: issued.Truncate(time.Second)}, nil
}

// expiry returns the simulated time the token c expires at, by the expiry
// this account recorded when it issued it.
func (a *account) expiry(c ossd.Credentials) time.Duration {
	id, err := strconv.Atoi(c.AccessKeyID[len("STS."):])
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil || id < 0 || id >= len(a.expires) {
		return math.MinInt64 / 2 // not a token this account issued: as good as expired
	}
	return a.expires[id]
}
