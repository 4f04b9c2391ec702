package cache_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/cache"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/refresher"
)

// BenchmarkSessionMemory measures what on-demand sessions cost in memory:
// the real cache and refresher, filled through Refresher.Get (the path of
// GET /v1/credentials/{role}?session=...) from an in-process fetcher that
// mints unique credentials shaped like STS's (a 1.2 KB SecurityToken). One
// AssumeRole call per session over HTTP would only make this slow: the
// daemon caps AssumeRole at 100 a second, so 100,000 sessions would take
// over 16 minutes to create and cost the same memory once cached.
//
// Run it once per size: go test -run '^$' -bench SessionMemory -benchtime 1x ./cache
func BenchmarkSessionMemory(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			var heap, rss float64
			for b.Loop() {
				heap, rss = fillSessions(b, n)
			}
			b.ReportMetric(heap/float64(n), "heap-B/session")
			b.ReportMetric(heap/(1<<20), "heap-MiB")
			b.ReportMetric(rss/(1<<20), "RSS-MiB")
		})
	}
}

// fillSessions caches n sessions and returns the heap they hold and the
// process's resident set size afterwards, in bytes.
func fillSessions(b *testing.B, n int) (heap, rss float64) {
	clk := clock.NewFake(now)
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	fetch := ossd.FetcherFunc(func(_ context.Context, p ossd.Params) (ossd.Credentials, error) {
		t := clk.Now()
		return ossd.Credentials{
			AccessKeyID: "STS." + randomText(rng, 21), AccessKeySecret: ossd.Secret(randomText(rng, 33)),
			SecurityToken: ossd.NewToken("CAIS" + randomText(rng, 900)), Expiration: t.Add(p.Duration), LastUpdated: t,
		}, nil
	})
	before := heapInUse()
	c := cache.New(n)
	ref := refresher.New(refresher.Options{Fetcher: fetch, Cache: c, Clock: clk, MaxQPS: 1e9, Seed: 1})
	for i := range n {
		p := ossd.Params{RoleARN: "acs:ram::1234567890123456:role/ossd-demo", SessionName: "ossd-demo-s" + strconv.Itoa(i), Duration: time.Hour}
		if _, err := ref.Get(context.Background(), p); err != nil {
			b.Fatal(err)
		}
	}
	if _, got := c.Len(); got != n {
		b.Fatalf("%d sessions cached, want %d", got, n)
	}
	heap = float64(heapInUse() - before)
	runtime.KeepAlive(ref)
	return heap, float64(vmRSS(b))
}

// randomText returns base64 of n random bytes (mutex-free: one fetcher
// call at a time here).
func randomText(r *rand.Rand, n int) string {
	buf := make([]byte, n)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	return base64.StdEncoding.EncodeToString(buf)
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// vmRSS returns this process's resident set size in bytes.
func vmRSS(b *testing.B) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status:", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				b.Fatal(fmt.Errorf("VmRSS %q: %w", v, err))
			}
			return kb << 10
		}
	}
	b.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// TestSessionRecordSizes: what every cached session keeps besides its
// credentials' bytes, against Go's size classes (128 and 176 bytes). One
// more field can push a record into the next class, 16 to 64 bytes a
// session, 1.5 to 6 MB at 100,000: then this fails, and BenchmarkSessionMemory
// tells what it costs.
func TestSessionRecordSizes(t *testing.T) {
	if n := unsafe.Sizeof(cache.State{}); n > 128 {
		t.Errorf("cache.State takes %d bytes, want at most 128", n)
	}
	if n := unsafe.Sizeof(cache.Entry{}); n > 176 {
		t.Errorf("cache.Entry takes %d bytes, want at most 176", n)
	}
}
