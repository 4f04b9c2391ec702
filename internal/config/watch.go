package config

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/ossd/ossd/internal/clock"
)

// DefaultDebounce is how long Watch waits after the last change before it
// reports one: editors write a file in several steps.
const DefaultDebounce = 250 * time.Millisecond

// Watcher reports changes to a config file and to the files it refers to
// (key files, policy files). It watches each file's directory, not the
// file: editors and Kubernetes replace a file by renaming another over it
// (ConfigMaps swap a "..data" symlink), which a watch on the file itself
// would lose.
type Watcher struct {
	w    *fsnotify.Watcher
	mu   sync.Mutex          // guards dirs and files
	dirs map[string]bool     // directories watched
	want map[string]struct{} // cleaned paths whose changes count
	last atomic.Pointer[string]
}

// NewWatcher starts watching path's directory. Changes made after it
// returns are reported by Run; call Close when done.
func NewWatcher(path string) (*Watcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", path, err)
	}
	cw := &Watcher{w: w, dirs: map[string]bool{}}
	if err := cw.Watch(path); err != nil {
		w.Close()
		return nil, err
	}
	return cw, nil
}

// Watch makes paths the files whose changes Run reports, besides none
// other: call it with the config file and the files it refers to after
// each reload, so that a rotated key file is noticed like an edited
// config. Directories already watched stay watched.
func (w *Watcher) Watch(paths ...string) error {
	want := make(map[string]struct{}, len(paths))
	var errs []error
	for _, p := range paths {
		p = filepath.Clean(p)
		want[p] = struct{}{}
		dir := filepath.Dir(p)
		w.mu.Lock()
		seen := w.dirs[dir]
		w.mu.Unlock()
		if seen {
			continue
		}
		if err := w.w.Add(dir); err != nil {
			errs = append(errs, fmt.Errorf("watch %s: %w", dir, err))
			continue
		}
		w.mu.Lock()
		w.dirs[dir] = true
		w.mu.Unlock()
	}
	w.mu.Lock()
	w.want = want
	w.mu.Unlock()
	return errors.Join(errs...)
}

// counts reports whether an event on name is a change to a watched file.
func (w *Watcher) counts(name string) bool {
	name = filepath.Clean(name)
	if filepath.Base(name) == "..data" {
		return true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.want[name]
	return ok
}

// Close stops watching.
func (w *Watcher) Close() error { return w.w.Close() }

// Run calls onChange, on Run's goroutine, once the file has stopped
// changing for debounce. It returns nil when ctx ends.
func (w *Watcher) Run(ctx context.Context, debounce time.Duration, clk clock.Clock, onChange func()) error {
	clk = clock.Or(clk)
	t := clk.NewTimer(time.Hour)
	t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.w.Events:
			if !ok {
				return nil
			}
			name := filepath.Base(ev.Name)
			w.last.Store(&name)
			if w.counts(ev.Name) {
				t.Reset(debounce) // the timer is owned by this goroutine
			}
		case _, ok := <-w.w.Errors:
			if !ok {
				return nil
			}
			// An error (such as a queue overflow) may hide a change: look.
			t.Reset(debounce)
		case <-t.C():
			onChange()
		}
	}
}

// Watch is NewWatcher, Run and Close in one call.
func Watch(ctx context.Context, path string, debounce time.Duration, clk clock.Clock, onChange func()) error {
	w, err := NewWatcher(path)
	if err != nil {
		return err
	}
	defer w.Close()
	return w.Run(ctx, debounce, clk, onChange)
}
