package config_test

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/config"
)

// watchEnv runs Watch on dir/ossd.toml with a fake clock.
type watchEnv struct {
	t     *testing.T
	dir   string
	path  string
	clk   *clock.Fake
	calls atomic.Int32
}

func startWatch(t *testing.T) *watchEnv {
	t.Helper()
	dir := t.TempDir()
	e := &watchEnv{t: t, dir: dir, path: filepath.Join(dir, "ossd.toml"), clk: clock.NewFake(time.Unix(0, 0))}
	os.WriteFile(e.path, []byte("v1"), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- config.Watch(ctx, e.path, time.Second, e.clk, func() { e.calls.Add(1) }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Watch = %v", err)
		}
	})
	time.Sleep(50 * time.Millisecond) // let the watch be registered before the test writes
	return e
}

// settle waits until the debounce timer is armed, then moves the clock past it.
func (e *watchEnv) settle() {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for e.clk.Timers() == 0 {
		if time.Now().After(deadline) {
			e.t.Fatal("no change seen")
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // let the rest of a burst of events arrive
	e.clk.Advance(time.Second)
}

func (e *watchEnv) wantCalls(n int32) {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for e.calls.Load() < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	if got := e.calls.Load(); got != n {
		e.t.Errorf("onChange called %d times, want %d", got, n)
	}
}

func TestWatchWrite(t *testing.T) {
	e := startWatch(t)
	os.WriteFile(e.path, []byte("v2"), 0o600)
	e.settle()
	e.wantCalls(1)
}

func TestWatchRapidWritesDebounced(t *testing.T) {
	e := startWatch(t)
	for i := range 20 {
		os.WriteFile(e.path, []byte{byte('a' + i)}, 0o600)
	}
	e.settle()
	e.wantCalls(1)
}

func TestWatchRenameOver(t *testing.T) {
	e := startWatch(t)
	tmp := filepath.Join(e.dir, ".ossd.toml.swp")
	os.WriteFile(tmp, []byte("v2"), 0o600)
	if err := os.Rename(tmp, e.path); err != nil {
		t.Fatal(err)
	}
	e.settle()
	e.wantCalls(1)
	os.WriteFile(e.path, []byte("v3"), 0o600) // the watch survives the replaced inode
	e.settle()
	e.wantCalls(2)
}

// TestWatchConfigMapSwap replays how the kubelet updates a ConfigMap volume:
// the file is a symlink through "..data", which is atomically re-pointed.
func TestWatchConfigMapSwap(t *testing.T) {
	e := startWatch(t)
	os.Remove(e.path)
	v1 := filepath.Join(e.dir, "..2030_01_01_v1")
	os.Mkdir(v1, 0o755)
	os.WriteFile(filepath.Join(v1, "ossd.toml"), []byte("v1"), 0o644)
	os.Symlink(filepath.Base(v1), filepath.Join(e.dir, "..data"))
	os.Symlink("..data/ossd.toml", e.path)
	e.settle()
	e.wantCalls(1)

	v2 := filepath.Join(e.dir, "..2030_01_01_v2")
	os.Mkdir(v2, 0o755)
	os.WriteFile(filepath.Join(v2, "ossd.toml"), []byte("v2"), 0o644)
	os.Symlink(filepath.Base(v2), filepath.Join(e.dir, "..data_tmp"))
	if err := os.Rename(filepath.Join(e.dir, "..data_tmp"), filepath.Join(e.dir, "..data")); err != nil {
		t.Fatal(err)
	}
	e.settle()
	e.wantCalls(2)
}

func TestWatchIgnoresOtherFiles(t *testing.T) {
	e := startWatch(t)
	os.WriteFile(filepath.Join(e.dir, "other.toml"), []byte("x"), 0o600)
	time.Sleep(100 * time.Millisecond)
	if n := e.clk.Timers(); n != 0 {
		t.Errorf("a change to another file armed the debounce timer")
	}
	e.clk.Advance(time.Hour)
	e.wantCalls(0)
}
