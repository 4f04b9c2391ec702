package config

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/ossd/ossd/internal/clock"
)

// DefaultDebounce is how long Watch waits after the last change before it
// reports one: editors write a file in several steps.
const DefaultDebounce = 250 * time.Millisecond

// Watcher reports changes to a config file. It watches the file's
// directory, not the file: editors and Kubernetes replace a file by renaming
// another over it (ConfigMaps swap a "..data" symlink), which a watch on the
// file itself would lose.
type Watcher struct {
	w    *fsnotify.Watcher
	base string
	last atomic.Pointer[string] // name of the last event Run read, for tests
}

// NewWatcher starts watching path's directory. Changes made after it
// returns are reported by Run; call Close when done.
func NewWatcher(path string) (*Watcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", path, err)
	}
	dir, base := filepath.Split(filepath.Clean(path))
	if err := w.Add(filepath.Clean(dir)); err != nil {
		w.Close()
		return nil, fmt.Errorf("watch %s: %w", dir, err)
	}
	return &Watcher{w: w, base: base}, nil
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
			if name == w.base || name == "..data" {
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
