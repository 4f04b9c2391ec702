package credproc_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/credproc"
	"github.com/ossd/ossd/internal/needs"
	"github.com/ossd/ossd/internal/testenv"
)

// counter is a Fetch that hands out numbered credentials valid for an hour
// from clk's now, or fails while err is set.
type counter struct {
	clk   clock.Clock
	calls atomic.Int32
	delay time.Duration
	err   error
}

func (c *counter) fetch(ctx context.Context) (ossd.Credentials, error) {
	n := c.calls.Add(1)
	time.Sleep(c.delay) // real time, so that other helpers pile up on the lock
	if c.err != nil {
		return ossd.Credentials{}, c.err
	}
	now := c.clk.Now().UTC()
	return ossd.Credentials{
		AccessKeyID: "STS.fetch" + string(rune('0'+n)), AccessKeySecret: "secret", SecurityToken: ossd.NewToken("token"),
		Expiration: now.Add(time.Hour).Truncate(time.Second), LastUpdated: now.Truncate(time.Second),
	}, nil
}

func newCache(t *testing.T, clk clock.Clock) credproc.FileCache {
	return credproc.FileCache{Dir: filepath.Join(t.TempDir(), "ossd", "cache"), Clock: clk, Floor: 16 * time.Minute, HardMin: 5 * time.Minute}
}

func TestFileCacheFloor(t *testing.T) {
	clk := clock.NewFake(testenv.Epoch)
	fc := newCache(t, clk)
	src := &counter{clk: clk}
	key := credproc.CacheKey("/etc/ossd.toml", "reader")
	get := func() ossd.Credentials {
		t.Helper()
		c, err := fc.Get(t.Context(), key, src.fetch)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	first := get()
	if again := get(); !same(again, first) || src.calls.Load() != 1 {
		t.Errorf("second Get = %s after %d fetches, want the cached %s after 1", again.AccessKeyID, src.calls.Load(), first.AccessKeyID)
	}
	clk.Advance(44 * time.Minute) // 16 min left: not more than the floor
	if c := get(); same(c, first) || src.calls.Load() != 2 {
		t.Errorf("at the floor: Get = %s after %d fetches, want a fresh one after 2", c.AccessKeyID, src.calls.Load())
	}
	if other := mustGet(t, fc, credproc.CacheKey("/etc/ossd.toml", "writer"), src.fetch); other.AccessKeyID != "STS.fetch3" {
		t.Errorf("another key got %s, want its own fetch", other.AccessKeyID)
	}
	fi, err := os.Stat(filepath.Join(fc.Dir, key+".json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("cache file: %v, mode %v; want 0600", err, fi.Mode())
	}
	if di, err := os.Stat(fc.Dir); err != nil || di.Mode().Perm() != 0o700 {
		t.Errorf("cache dir: %v, mode %v; want 0700", err, di.Mode())
	}
}

// same reports whether a and b hold the same credentials and times.
func same(a, b ossd.Credentials) bool {
	return a.AccessKeyID == b.AccessKeyID && a.AccessKeySecret == b.AccessKeySecret && a.SecurityToken == b.SecurityToken &&
		a.Expiration.Equal(b.Expiration) && a.LastUpdated.Equal(b.LastUpdated)
}

func mustGet(t *testing.T, fc credproc.FileCache, key string, f credproc.Fetch) ossd.Credentials {
	t.Helper()
	c, err := fc.Get(t.Context(), key, f)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFileCacheDegraded(t *testing.T) {
	clk := clock.NewFake(testenv.Epoch)
	fc := newCache(t, clk)
	src := &counter{clk: clk}
	key := credproc.CacheKey("cfg", "reader")
	first := mustGet(t, fc, key, src.fetch)
	src.err = &ossd.STSError{Code: "Throttling.User", Message: "Request was denied due to user flow control."}
	clk.Advance(50 * time.Minute) // 10 min left: below the floor, above the hard minimum
	c, err := fc.Get(t.Context(), key, src.fetch)
	var de *credproc.DegradedError
	if !errors.As(err, &de) || !same(c, first) || de.Left != 10*time.Minute || ossd.ErrorCode(err) != "Throttling.User" {
		t.Errorf("degraded Get = %s, %v; want the cached token, 10m left, Throttling.User", c.AccessKeyID, err)
	}
	clk.Advance(6 * time.Minute) // 4 min left: below the hard minimum
	if c, err := fc.Get(t.Context(), key, src.fetch); err == nil || errors.As(err, &de) || c.AccessKeyID != "" {
		t.Errorf("below the hard minimum: Get = %s, %v; want the fetch error alone", c.AccessKeyID, err)
	}
}

// TestFileCacheConcurrent: helpers that start together make one fetch. Each
// Get opens its own file description, so the flocks contend as between
// processes.
func TestFileCacheConcurrent(t *testing.T) {
	fc := newCache(t, clock.Real{})
	src := &counter{clk: clock.Real{}, delay: 100 * time.Millisecond}
	key := credproc.CacheKey("cfg", "reader")
	var wg sync.WaitGroup
	got := make([]ossd.Credentials, 20)
	errs := make([]error, 20)
	for i := range got {
		wg.Go(func() { got[i], errs[i] = fc.Get(t.Context(), key, src.fetch) })
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil || !same(got[i], got[0]) {
			t.Errorf("Get #%d = %s, %v; want %s", i, got[i].AccessKeyID, errs[i], got[0].AccessKeyID)
		}
	}
	if n := src.calls.Load(); n != 1 {
		t.Errorf("fetches = %d, want 1", n)
	}
}

func TestFileCacheLockWaitEndsWithContext(t *testing.T) {
	fc := newCache(t, clock.Real{})
	key := credproc.CacheKey("cfg", "reader")
	release := make(chan struct{})
	started := make(chan struct{})
	go fc.Get(context.Background(), key, func(context.Context) (ossd.Credentials, error) {
		close(started)
		<-release
		return ossd.Credentials{}, errors.New("gave up")
	})
	<-started
	defer close(release)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err := fc.Get(ctx, key, func(context.Context) (ossd.Credentials, error) {
		t.Error("second fetch while the first holds the lock")
		return ossd.Credentials{}, nil
	})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "waiting for another ossd credential-process") {
		t.Errorf("err = %v, want a lock-wait deadline", err)
	}
}

func TestFileCacheRefusesUnsafe(t *testing.T) {
	key := credproc.CacheKey("cfg", "reader")
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{"dir readable by others", func(t *testing.T, dir string) { os.Chmod(dir, 0o755) }, "chmod 700"},
		{"dir readable by group", func(t *testing.T, dir string) { os.Chmod(dir, 0o750) }, "mode 0750"},
		{"file readable by others", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, key+".json"), nil, 0o644)
		}, "chmod 600"},
		{"file is a symlink", func(t *testing.T, dir string) {
			os.Symlink("/etc/passwd", filepath.Join(dir, key+".json"))
		}, "symbolic link"},
		{"dir is a symlink", func(t *testing.T, dir string) {
			os.Remove(dir)
			os.Symlink(t.TempDir(), dir)
		}, "is a symlink"},
		{"dir owned by someone else", func(t *testing.T, dir string) {
			needs.Root(t, "to chown")
			os.Chown(dir, 65534, 65534)
		}, "not to you"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fc := newCache(t, clock.Real{})
			if err := os.MkdirAll(fc.Dir, 0o700); err != nil {
				t.Fatal(err)
			}
			tc.setup(t, fc.Dir)
			called := false
			_, err := fc.Get(t.Context(), key, func(context.Context) (ossd.Credentials, error) {
				called = true
				return ossd.Credentials{}, nil
			})
			if err == nil || !strings.Contains(err.Error(), tc.want) || called {
				t.Errorf("Get = %v (fetched: %v), want a refusal mentioning %q", err, called, tc.want)
			}
		})
	}
}

func TestCacheDir(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000", "XDG_CACHE_HOME": "/c", "HOME": "/h"}, "/run/user/1000/ossd/cache"},
		{map[string]string{"XDG_CACHE_HOME": "/c", "HOME": "/h"}, "/c/ossd"},
		{map[string]string{"HOME": "/h"}, "/h/.cache/ossd"},
		{map[string]string{}, ""},
	}
	for _, tc := range tests {
		got, err := credproc.CacheDir(env(tc.env))
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("CacheDir(%v) = %q, %v; want %q", tc.env, got, err, tc.want)
		}
	}
	if a, b := credproc.CacheKey("a", "bc"), credproc.CacheKey("ab", "c"); a == b || len(a) != 32 {
		t.Errorf("CacheKey(a, bc) = %s, CacheKey(ab, c) = %s: want distinct 32-hex names", a, b)
	}
}
