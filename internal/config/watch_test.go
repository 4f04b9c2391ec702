package config_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/config"
)

// watchEnv runs a Watcher on dir/ossd.toml with a fake clock.
type watchEnv struct {
	t     *testing.T
	dir   string
	path  string
	clk   *clock.Fake
	w     *config.Watcher
	calls atomic.Int32
	marks int
}

func startWatch(t *testing.T) *watchEnv {
	t.Helper()
	dir := t.TempDir()
	e := &watchEnv{t: t, dir: dir, path: filepath.Join(dir, "ossd.toml"), clk: clock.NewFake(time.Unix(0, 0))}
	os.WriteFile(e.path, []byte("v1"), 0o600)
	w, err := config.NewWatcher(e.path) // watching when it returns
	if err != nil {
		t.Fatal(err)
	}
	e.w = w
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, time.Second, e.clk, func() { e.calls.Add(1) }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
		w.Close()
	})
	return e
}

// seen waits until the watcher has read every event caused so far: it
// touches a file of its own and waits for that event, which the kernel
// queues after all earlier ones.
func (e *watchEnv) seen() {
	e.t.Helper()
	e.marks++
	mark := "mark-" + strconv.Itoa(e.marks)
	os.WriteFile(filepath.Join(e.dir, mark), nil, 0o600)
	waitUntil(e.t, "the watcher to read "+mark, func() bool { return e.w.LastEvent() == mark })
}

// settle waits until every event so far has been read, then moves the
// clock past the debounce.
func (e *watchEnv) settle() {
	e.t.Helper()
	e.seen()
	if e.clk.Timers() == 0 {
		e.t.Fatal("no change seen")
	}
	e.clk.Advance(time.Second)
}

// wantCalls waits for n calls, then checks that no more come once the
// watcher has read every event so far.
func (e *watchEnv) wantCalls(n int32) {
	e.t.Helper()
	waitUntil(e.t, fmt.Sprintf("%d calls", n), func() bool { return e.calls.Load() >= n })
	e.seen()
	if got := e.calls.Load(); got != n {
		e.t.Errorf("onChange called %d times, want %d", got, n)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
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
	e.seen()
	if n := e.clk.Timers(); n != 0 {
		t.Errorf("a change to another file armed the debounce timer")
	}
	e.clk.Advance(time.Hour)
	e.wantCalls(0)
}
