package tokenstore

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// InMemory reports whether dir is on a file system kept only in memory
// (tmpfs or ramfs), whose contents a reboot or power loss erases.
func InMemory(dir string) (bool, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return false, fmt.Errorf("statfs %s: %w", dir, err)
	}
	switch uint32(st.Type) {
	case unix.TMPFS_MAGIC, unix.RAMFS_MAGIC:
		return true, nil
	}
	return false, nil
}
