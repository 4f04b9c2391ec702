// Package harden reduces what the daemon's process exposes: it is made
// non-dumpable, so no core file is written and processes of the same user
// can neither ptrace it nor read its memory or environment through /proc,
// and its core-file limit is set to zero.
package harden

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Process applies the hardening to the calling process.
func Process() error {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("harden: PR_SET_DUMPABLE: %w", err)
	}
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{}); err != nil {
		return fmt.Errorf("harden: RLIMIT_CORE: %w", err)
	}
	return nil
}

// Dumpable reports whether the calling process is dumpable.
func Dumpable() (bool, error) {
	v, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	return v != 0, err
}
