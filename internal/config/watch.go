package config

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/ossd/ossd/internal/clock"
)

// DefaultDebounce is how long Watch waits after the last change before it
// reports one: editors write a file in several steps.
const DefaultDebounce = 250 * time.Millisecond

// Watch calls onChange once the file at path has stopped changing for
// debounce. It watches the file's directory, not the file: editors and
// Kubernetes replace a file by renaming another over it (ConfigMaps swap a
// "..data" symlink), which a watch on the file itself would lose. Watch
// returns nil when ctx ends. onChange runs on Watch's goroutine.
func Watch(ctx context.Context, path string, debounce time.Duration, clk clock.Clock, onChange func()) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch %s: %w", path, err)
	}
	defer w.Close()
	dir, base := filepath.Split(filepath.Clean(path))
	if err := w.Add(filepath.Clean(dir)); err != nil {
		return fmt.Errorf("watch %s: %w", dir, err)
	}
	clk = clock.Or(clk)
	t := clk.NewTimer(time.Hour)
	t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if name := filepath.Base(ev.Name); name == base || name == "..data" {
				t.Reset(debounce) // the timer is owned by this goroutine
			}
		case _, ok := <-w.Errors:
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
