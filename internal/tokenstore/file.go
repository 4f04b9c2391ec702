package tokenstore

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/ossd/ossd/internal/safepath"
)

// ErrUntrusted marks a state file, or a directory on its path, that is
// ignored because anyone but the daemon could have written it or could read
// it (it then also matches safepath.ErrUnsafe), or that is too large.
var ErrUntrusted = errors.New("untrusted token file")

// readPrivate reads name in d if it is a regular file, reached without
// following a symlink, owned by ossd's uid, with no group or other
// permission bits ([safepath.Dir.OpenFile]), and at most limit bytes long.
// A missing file is fs.ErrNotExist.
func readPrivate(d *safepath.Dir, name string, limit int64) ([]byte, error) {
	f, err := d.OpenFile(name, os.O_RDONLY|unix.O_NOCTTY, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fs.ErrNotExist
	case errors.Is(err, safepath.ErrUnsafe):
		return nil, fmt.Errorf("%w: %w", ErrUntrusted, err)
	case err != nil:
		return nil, err
	}
	defer f.Close() // read-only: a close error loses nothing
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%w: %s has %d bytes, more than the %d a token file may have", ErrUntrusted, f.Name(), fi.Size(), limit)
	}
	// One read of the size fstat gave, and one byte more to notice a file
	// that grows meanwhile: Save replaces the file, never writes into it.
	data := make([]byte, fi.Size()+1)
	n, err := io.ReadFull(f, data)
	switch {
	case err == nil:
		return nil, fmt.Errorf("%w: %s grew while read", ErrUntrusted, f.Name())
	case !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF):
		return nil, fmt.Errorf("read %s: %w", f.Name(), err)
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
