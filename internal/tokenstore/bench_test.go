package tokenstore_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/cache"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/internal/tokenstore"
	"github.com/ossd/ossd/refresher"
)

// Sizes of the benchmarks: the default server.max_sessions, all in use,
// and a hundred configured roles.
const (
	benchRoles    = 100
	benchSessions = 10_000
)

// benchCache fills a cache with benchRoles pinned roles and benchSessions
// sessions of them, each with credentials shaped like STS's (a 1.2 KB
// SecurityToken), and returns it with the roles' parameters.
func benchCache(clk clock.Clock) (*cache.Cache, []ossd.Params) {
	c := cache.New(benchSessions)
	now := clk.Now()
	var roles []ossd.Params
	state := func() *cache.State {
		s := &cache.State{Fetched: clk.Mono()}
		s.SetCreds(ossd.Credentials{
			AccessKeyID: "STS." + rand.Text(), AccessKeySecret: ossd.Secret(rand.Text()),
			SecurityToken: ossd.NewToken("CAIS" + strings.Repeat(rand.Text(), 46)), // 1.2 KB
			Expiration:    now.Add(time.Hour), LastUpdated: now,
		}, now)
		return s
	}
	for i := range benchRoles {
		p := testenv.Params(fmt.Sprintf("r%03d", i))
		roles = append(roles, p)
		c.Pin(p).SetState(state())
	}
	for i := range benchSessions {
		p := roles[i%benchRoles]
		p.SessionName += fmt.Sprintf("-s%d", i)
		e, _ := c.GetOrAdd(p)
		e.SetState(state())
	}
	return c, roles
}

func benchStore(b *testing.B, c *cache.Cache, clk clock.Clock, dir string) *tokenstore.Store {
	s, err := tokenstore.Open(tokenstore.AssumeInMemory(tokenstore.Options{
		Dir: dir, Cache: c, Fingerprint: fp, Floor: refresher.DefaultFloor, MaxSessions: benchSessions, Clock: clk,
	}))
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range c.Entries() {
		s.Issued(e.State().Creds().AccessKeyID, fp)
	}
	return s
}

// BenchmarkSave is one save of 10,100 tokens; BenchmarkWriteFile writes
// the same bytes with os.WriteFile, the practical limit.
func BenchmarkSave(b *testing.B) {
	clk := clock.NewFake(testenv.Epoch)
	c, _ := benchCache(clk)
	s := benchStore(b, c, clk, testenv.RuntimeDir(b))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Save(); err != nil {
			b.Fatal(err)
		}
	}
	fi, err := os.Stat(s.Path())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(fi.Size())/(1<<20), "file-MiB")

}

func BenchmarkWriteFile(b *testing.B) {
	clk := clock.NewFake(testenv.Epoch)
	c, _ := benchCache(clk)
	dir := testenv.RuntimeDir(b)
	s := benchStore(b, c, clk, dir)
	if err := s.Save(); err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(s.Path())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := os.WriteFile(filepath.Join(dir, "bare"), data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad is one start's load of 10,100 kept tokens into a fresh
// refresher; BenchmarkReadFile reads the same file, the practical limit.
func BenchmarkLoad(b *testing.B) {
	clk := clock.NewFake(testenv.Epoch)
	c, roles := benchCache(clk)
	dir := testenv.RuntimeDir(b)
	if err := benchStore(b, c, clk, dir).Save(); err != nil {
		b.Fatal(err)
	}
	never := ossd.FetcherFunc(func(context.Context, ossd.Params) (ossd.Credentials, error) {
		return ossd.Credentials{}, errors.New("no fetch expected")
	})
	b.ReportAllocs()
	for b.Loop() {
		fresh := cache.New(benchSessions)
		ref := refresher.New(refresher.Options{Fetcher: never, Cache: fresh, Clock: clk})
		s := benchStore(b, fresh, clk, dir)
		if n := s.Load(roles, ref); n != benchRoles+benchSessions {
			b.Fatalf("restored %d, want %d", n, benchRoles+benchSessions)
		}
	}
}

func BenchmarkReadFile(b *testing.B) {
	clk := clock.NewFake(testenv.Epoch)
	c, _ := benchCache(clk)
	s := benchStore(b, c, clk, testenv.RuntimeDir(b))
	if err := s.Save(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := os.ReadFile(s.Path()); err != nil {
			b.Fatal(err)
		}
	}
}
