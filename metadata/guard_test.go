package metadata_test

import (
	"context"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/localsts"
	"github.com/ossd/ossd/internal/peer"
	"github.com/ossd/ossd/internal/ratelimit"
	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/metadata"
)

func TestRateLimit(t *testing.T) {
	env := newEnv(t)
	f := startMetadata(t, env, metadata.Options{Limit: ratelimit.New(ratelimit.Options{Rate: 1, Burst: 3, Clock: env.Clock})})
	for i := range 3 {
		if r := f.get(t, creds); r.status != 200 {
			t.Fatalf("request %d = %d %s", i, r.status, r.body)
		}
	}
	r := f.get(t, creds)
	if r.status != 429 || !strings.Contains(r.body, `"Code":"TooManyRequests"`) || r.header.Get("Retry-After") != "1" {
		t.Fatalf("over the burst: %d %v %s, want 429 TooManyRequests with Retry-After", r.status, r.header, r.body)
	}
	noSecrets(t, env, "429 body", r.body)
	env.Clock.Advance(time.Second)
	if r := f.get(t, creds); r.status != 200 {
		t.Errorf("a second later: %d %s, want 200", r.status, r.body)
	}
	if r := f.get(t, creds); r.status != 429 {
		t.Errorf("then: %d, want 429", r.status)
	}
}

func TestHeaderLimit(t *testing.T) {
	env := newEnv(t)
	f := startMetadata(t, env, metadata.Options{})
	r := f.get(t, creds, "X-Padding: "+strings.Repeat("a", 16<<10))
	if r.status != 431 {
		t.Errorf("16 KiB header: %d, want 431", r.status)
	}
}

// TestCachedNeverWaits: with a valid token cached, a credentials request is
// answered while STS hangs; with none cached, the request gets 503 at its
// deadline and the fetch it started serves the next request.
func TestCachedNeverWaits(t *testing.T) {
	env := newEnv(t)
	f := startMetadata(t, env, metadata.Options{Deadline: 200 * time.Millisecond})
	calls := env.STS.Calls()
	env.STS.SetFault(localsts.Fault{Delay: time.Hour})
	if r := f.get(t, creds); r.status != 200 {
		t.Fatalf("cached: %d %s", r.status, r.body)
	}
	if got := env.STS.Calls(); got != calls {
		t.Errorf("a cached answer called STS %d times", got-calls)
	}

}

func TestColdFetchDeadline(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "reader")
	env.STS.FailNext(1, localsts.Fault{Code: "InternalError"})
	if errs := env.Service.Apply(context.Background(), testenv.Roles("reader")); len(errs) != 1 {
		t.Fatalf("Apply with STS failing: %v", errs)
	}
	f := startMetadata(t, env, metadata.Options{Deadline: 100 * time.Millisecond})
	r := f.get(t, creds)
	if r.status != 503 || !strings.Contains(r.body, metadata.CodeUnavailable) {
		t.Fatalf("while backing off: %d %s, want 503 %s", r.status, r.body, metadata.CodeUnavailable)
	}
	env.Clock.Advance(3 * time.Minute) // past the retry time
	env.STS.FailNext(1, localsts.Fault{Delay: 300 * time.Millisecond})
	r = f.get(t, creds)
	if r.status != 503 || !strings.Contains(r.body, metadata.CodeCallerTimeout) {
		t.Fatalf("cold fetch past the deadline: %d %s, want 503 %s", r.status, r.body, metadata.CodeCallerTimeout)
	}
	for deadline := time.Now().Add(30 * time.Second); env.STS.Successes() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the fetch the request started never finished")
		}
	}
	calls := env.STS.Calls()
	if r := f.get(t, creds); r.status != 200 || r.body != string(env.Get(testenv.Params("reader")).AppendJSON(nil)) {
		t.Errorf("after the fetch: %d %s", r.status, r.body)
	}
	if got := env.STS.Calls(); got != calls {
		t.Errorf("serving after the fetch called STS %d more times", got-calls)
	}
}

// TestRateLimitByUIDNotAddress: one user connecting from 20 addresses of
// 127.0.0.0/8 is still one caller. Keyed by address, each address had a
// burst of its own, and the user got 20 times the limit.
func TestRateLimitByUIDNotAddress(t *testing.T) {
	env := newEnv(t)
	var limited []peer.Identity
	var mu sync.Mutex
	lim := ratelimit.New(ratelimit.Options{Rate: 1, Burst: 10, Clock: env.Clock, OnLimited: func(id peer.Identity) {
		mu.Lock()
		limited = append(limited, id)
		mu.Unlock()
	}})
	f := startMetadata(t, env, metadata.Options{Limit: lim})
	ok, refused := 0, 0
	for i := range 20 {
		src := &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i))}
		for range 5 {
			switch r := rawFrom(t, src, f.addr, request("GET", creds, f.addr)); r.status {
			case 200:
				ok++
			case 429:
				refused++
			default:
				t.Fatalf("from %v: %d %s", src, r.status, r.body)
			}
		}
	}
	if ok != 10 || refused != 90 {
		t.Errorf("one user from 20 addresses: %d served and %d refused, want the burst of 10 and 90", ok, refused)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, id := range limited {
		if !id.Known || id.UID != uint32(os.Getuid()) {
			t.Fatalf("refused caller %v, want this process's uid %d", id, os.Getuid())
		}
	}
}
