package refresher_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/cache"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/sts"
	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/refresher"
)

// TestMaxQPSAtSTS starts 300 roles at max_qps 100 on the real clock, through
// the real SDK client, and counts what the local STS received: no window
// of one second may hold more than 100 calls, however the calls' latency
// varied on the way. Counting when calls leave ossd is not enough: a call
// that leaves late lands in the same second as the calls after it.
func TestMaxQPSAtSTS(t *testing.T) {
	t.Setenv("HTTP_PROXY", "")
	const roles, qps = 300, 100
	names := make([]string, roles)
	for i := range names {
		names[i] = fmt.Sprintf("r%03d", i)
	}
	s, endpoint := testenv.StartSTS(t, names...)
	client, err := sts.New(sts.Options{Region: "cn-hangzhou", Endpoint: endpoint, Timeout: 30 * time.Second,
		Source: credentials.NewStaticAKCredentialsProvider(testenv.KeyID, testenv.KeySecret)})
	if err != nil {
		t.Fatal(err)
	}
	ref := refresher.New(refresher.Options{Fetcher: client, Cache: cache.New(10), Clock: clock.Real{},
		MaxQPS: qps, Timeout: 30 * time.Second, Workers: 64})
	ps := make([]ossd.Params, roles)
	for i, n := range names {
		ps[i] = testenv.Params(n)
	}
	if errs := ref.Warm(context.Background(), ps); len(errs) != 0 {
		t.Fatalf("Warm: %d errors, e.g. %v", len(errs), errs[ps[0].Key()])
	}
	var at []time.Duration
	for _, c := range s.CallLog() {
		at = append(at, time.Duration(c.At.UnixNano()))
	}
	slices.Sort(at)
	if len(at) != roles {
		t.Fatalf("STS saw %d calls, want %d", len(at), roles)
	}
	if got := maxArrivals(at, time.Second); got > qps {
		t.Errorf("STS received %d AssumeRole calls within one second; max_qps is %d", got, qps)
	}
}

// maxArrivals returns the most of sorted that fall in any window [t, t+w).
func maxArrivals(sorted []time.Duration, w time.Duration) int {
	best, lo := 0, 0
	for hi, t := range sorted {
		for sorted[lo] <= t-w {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}
