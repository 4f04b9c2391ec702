package credproc

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// maxCLIConfig bounds the aliyun CLI config.json that ReadCLIConfig reads.
const maxCLIConfig = 16 << 20

// ReadCLIConfig reads the aliyun CLI config at path. It follows a symlink
// and returns the path of the file itself, which is where a new version
// must go. A missing file yields nil data and mode 0600.
func ReadCLIConfig(path string) (real string, data []byte, mode fs.FileMode, err error) {
	real = path
	if fi, err := os.Lstat(path); err == nil && fi.Mode().Type() == fs.ModeSymlink {
		if real, err = filepath.EvalSymlinks(path); err != nil {
			return "", nil, 0, fmt.Errorf("read %s: %w", path, err)
		}
	}
	f, err := os.Open(real)
	if errors.Is(err, fs.ErrNotExist) {
		return real, nil, 0o600, nil
	}
	if err != nil {
		return "", nil, 0, fmt.Errorf("read %s: %w", real, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", nil, 0, fmt.Errorf("read %s: %w", real, err)
	}
	if !fi.Mode().IsRegular() {
		return "", nil, 0, fmt.Errorf("read %s: not a regular file", real)
	}
	data, err = io.ReadAll(io.LimitReader(f, maxCLIConfig+1))
	if err != nil {
		return "", nil, 0, fmt.Errorf("read %s: %w", real, err)
	}
	if len(data) > maxCLIConfig {
		return "", nil, 0, fmt.Errorf("read %s: larger than %d MiB", real, maxCLIConfig>>20)
	}
	if data == nil {
		data = []byte{} // an empty file exists: it gets a backup too
	}
	return real, data, fi.Mode().Perm(), nil
}

// Backup writes data to path.bak-<UTC time> (mode 0600), adding -2, -3, ...
// when that name is taken, and returns the name it used.
func Backup(path string, data []byte, now time.Time) (string, error) {
	base := path + ".bak-" + now.UTC().Format("20060102T150405Z")
	name := base
	for n := 2; ; n++ {
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) && n < 100 {
			name = base + "-" + strconv.Itoa(n)
			continue
		}
		if err != nil {
			return "", fmt.Errorf("back up %s: %w", path, err)
		}
		_, err = f.Write(data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(name)
			return "", fmt.Errorf("back up %s: %w", path, err)
		}
		return name, nil
	}
}

// WriteAtomic replaces path with data: it writes a temporary file with mode
// in the same directory (created 0700 if missing), syncs it and renames it
// over path, so a reader sees the old file or the new one, never half.
func WriteAtomic(path string, data []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	err = tmp.Chmod(mode.Perm())
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
