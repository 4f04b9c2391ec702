package testenv

import (
	"os"
	"testing"
)

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
