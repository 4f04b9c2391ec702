package tokenstore

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// ErrUntrusted marks a state file that is ignored because anyone but the
// daemon could have written it, or could read it.
var ErrUntrusted = errors.New("untrusted token file")

// readPrivate reads path if it is a regular file reached without
// following a symlink, owned by euid, with no group or other permission
// bits, and at most limit bytes long. A missing file is fs.ErrNotExist.
func readPrivate(path string, euid int, limit int64) ([]byte, error) {
	// O_NONBLOCK: opening a FIFO planted at path must not hang the start.
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	switch {
	case errors.Is(err, unix.ENOENT):
		return nil, fs.ErrNotExist
	case errors.Is(err, unix.ELOOP):
		return nil, fmt.Errorf("%w: %s is a symlink", ErrUntrusted, path)
	case err != nil:
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close() // read-only: a close error loses nothing
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	switch perm := st.Mode & 0o7777; {
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrUntrusted, path)
	case int(st.Uid) != euid:
		return nil, fmt.Errorf("%w: %s belongs to uid %d, not to ossd (uid %d)", ErrUntrusted, path, st.Uid, euid)
	case perm&0o077 != 0:
		return nil, fmt.Errorf("%w: %s has mode %04o; group and others must have no access", ErrUntrusted, path, perm)
	case st.Size > limit:
		return nil, fmt.Errorf("%w: %s has %d bytes, more than the %d a token file may have", ErrUntrusted, path, st.Size, limit)
	}
	// One read of the size fstat gave, and one byte more to notice a file
	// that grows meanwhile: Save replaces the file, never writes into it.
	data := make([]byte, st.Size+1)
	n, err := io.ReadFull(f, data)
	switch {
	case err == nil:
		return nil, fmt.Errorf("%w: %s grew while read", ErrUntrusted, path)
	case !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF):
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return data[:n], nil
}

// writeAtomic replaces dir/name with data: a new 0600 file in dir, synced,
// then renamed over the old one, so a reader sees the old file or the new,
// never part of one. A symlink at dir/name is replaced, not followed.
func writeAtomic(dir, name string, data []byte) (err error) {
	f, err := os.CreateTemp(dir, "."+name+".*.tmp") // O_EXCL, mode 0600
	if err != nil {
		return fmt.Errorf("create temporary token file: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp) // best effort: the error that matters is err
		}
	}()
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("rename token file: %w", err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer d.Close() // read-only handle; Sync's error is the one reported
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// checkDir refuses a directory that someone other than root or euid owns,
// or that group or others may write to without the sticky bit: whoever can
// replace files in it could plant tokens or delete ours.
func checkDir(dir string, euid int) error {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return fmt.Errorf("stat %s: %w", dir, err)
	}
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFDIR:
		return fmt.Errorf("%w: %s is not a directory", ErrUntrusted, dir)
	case st.Uid != 0 && int(st.Uid) != euid:
		return fmt.Errorf("%w: directory %s belongs to uid %d, not to root or ossd (uid %d)", ErrUntrusted, dir, st.Uid, euid)
	case st.Mode&0o022 != 0 && st.Mode&unix.S_ISVTX == 0:
		return fmt.Errorf("%w: directory %s has mode %04o: group or others may replace files in it", ErrUntrusted, dir, st.Mode&0o7777)
	}
	return nil
}
