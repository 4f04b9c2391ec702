package peer

import (
	"bytes"
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// direntMax bounds the size of one struct linux_dirent64 in the /proc
// directories read here: names are pids, fd numbers and a few words.
const direntMax = 512

// readDir calls fn with the name and inode number of every entry of the
// directory dir, reading with getdents64 into buf. procfs fills a
// getdents buffer until the next entry would not fit, so a read that
// leaves room for direntMax more bytes was the last one, and the final
// empty read is skipped.
func readDir(dir int, buf []byte, fn func(name []byte, ino uint64)) error {
	for {
		n, err := unix.Getdents(dir, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n <= 0 {
			return nil
		}
		parseDirents(buf[:n], fn)
		if n <= len(buf)-direntMax {
			return nil
		}
	}
}

// parseDirents calls fn for each struct linux_dirent64 in b (ino u64, off
// s64, reclen u16, type u8, then the name), stopping at a malformed one.
func parseDirents(b []byte, fn func(name []byte, ino uint64)) {
	for len(b) >= 19 {
		reclen := int(binary.NativeEndian.Uint16(b[16:]))
		if reclen < 19 || reclen > len(b) {
			return
		}
		name := b[19:reclen]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		if len(name) > 0 {
			fn(name, binary.NativeEndian.Uint64(b[0:]))
		}
		b = b[reclen:]
	}
}
