// Package logtest captures everything a component logs, at debug level and
// through the daemon's own redacting handler, so tests can search it for
// secrets.
package logtest

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/ossd/ossd/internal/logging"
)

// Buffer is a goroutine-safe log sink.
type Buffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// New returns a debug-level JSON logger and the buffer it writes to.
func New(t testing.TB) (*slog.Logger, *Buffer) {
	t.Helper()
	b := new(Buffer)
	log, err := logging.New(b, "debug", "json")
	if err != nil {
		t.Fatal(err)
	}
	return log, b
}

// NoSecrets fails t if text contains any of secrets (empty ones ignored).
func NoSecrets(t testing.TB, what, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s contains a secret (%d chars starting %.4q)", what, len(s), s)
		}
	}
}

// Disk is an audit file on a disk that can be made full: while full, every
// Write fails with ENOSPC and writes nothing, as on a full filesystem.
type Disk struct {
	mu   sync.Mutex // guards full
	full bool
	Buffer
}

// Write appends p, or fails while d is full.
func (d *Disk) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.full {
		return 0, syscall.ENOSPC
	}
	return d.Buffer.Write(p)
}

// SetFull makes d full or gives it room again.
func (d *Disk) SetFull(full bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.full = full
}
