package testenv

import (
	"os"
	"testing"

	"github.com/ossd/ossd/internal/tokenstore"
)

// shm is where RuntimeDir makes its directories: a tmpfs on Linux.
const shm = "/dev/shm"

// RuntimeDir returns a fresh private directory for a daemon's runtime
// state, removed at cleanup: under /dev/shm when that is a tmpfs, so the
// daemon keeps its tokens there as under systemd; else under /tmp.
func RuntimeDir(t testing.TB) string {
	t.Helper()
	base := "/tmp"
	if mem, err := tokenstore.InMemory(shm); err == nil && mem {
		base = shm
	}
	dir, err := os.MkdirTemp(base, "ossd-run-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// mkdirShort makes a temporary directory under /tmp, removed at cleanup:
// t.TempDir paths can exceed the ~108-byte limit of a socket path.
func mkdirShort(t testing.TB) (string, error) {
	dir, err := os.MkdirTemp("/tmp", "ossd-test-")
	if err != nil {
		return "", err
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir, nil
}
