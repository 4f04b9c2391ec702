package credproc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/clock"
)

// ErrUnsafeCache is returned when the cache directory or file could be read
// or replaced by someone else; the cache refuses to use it.
var ErrUnsafeCache = errors.New("unsafe credentials cache")

// FileCache shares credentials between helpers running at the same time:
// a build that starts thirty CLI commands at once makes one AssumeRole
// call, not thirty. Each key is one file in Dir, which must be private
// (0700, owned by the caller); the file is 0600. Readers take a shared
// flock, a fetcher an exclusive one and checks the file again once it has
// it, so exactly one of a crowd fetches.
//
// A FileCache is safe for concurrent use by goroutines and processes.
type FileCache struct {
	Dir     string
	Clock   clock.Clock   // nil = real
	Floor   time.Duration // hand out cached credentials only with more than this left
	HardMin time.Duration // while fetching fails, fall back to cached ones with more than this left
}

// Fetch obtains fresh credentials; FileCache calls it while holding the
// exclusive lock.
type Fetch func(ctx context.Context) (ossd.Credentials, error)

// DegradedError accompanies cached credentials handed out below the floor
// because fetching failed: the credentials are usable; the error says why
// they are not fresh.
type DegradedError struct {
	Left time.Duration // validity left on the credentials handed out
	Err  error         // the fetch error
}

func (e *DegradedError) Error() string {
	return fmt.Sprintf("renewal failed, serving cached credentials valid for %s: %v", e.Left.Round(time.Second), e.Err)
}

func (e *DegradedError) Unwrap() error { return e.Err }

// CacheDir returns the directory for a FileCache: $XDG_RUNTIME_DIR/ossd/cache
// (a per-user tmpfs), else $XDG_CACHE_HOME/ossd, else $HOME/.cache/ossd.
// It never falls back to a shared directory such as /tmp.
func CacheDir(getenv func(string) string) (string, error) {
	switch {
	case getenv("XDG_RUNTIME_DIR") != "":
		return filepath.Join(getenv("XDG_RUNTIME_DIR"), "ossd", "cache"), nil
	case getenv("XDG_CACHE_HOME") != "":
		return filepath.Join(getenv("XDG_CACHE_HOME"), "ossd"), nil
	case getenv("HOME") != "":
		return filepath.Join(getenv("HOME"), ".cache", "ossd"), nil
	}
	return "", errors.New("no private directory for the credentials cache: set XDG_RUNTIME_DIR, XDG_CACHE_HOME or HOME")
}

// CacheKey returns a file name for the credentials identified by parts (the
// config path, the role, the session, the AssumeRole parameters). It is a
// hash, so the name reveals nothing.
func CacheKey(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:16])
}

// Get returns the cached credentials for key if they have more than Floor
// left, and otherwise calls fetch, stores what it returns and returns that.
// If fetch fails while the cached credentials still have more than HardMin
// left, Get returns them with a *DegradedError.
func (fc *FileCache) Get(ctx context.Context, key string, fetch Fetch) (ossd.Credentials, error) {
	f, err := fc.open(key)
	if err != nil {
		return ossd.Credentials{}, err
	}
	defer f.Close() // also releases the lock
	if err := fc.lock(ctx, f, unix.LOCK_SH); err != nil {
		return ossd.Credentials{}, err
	}
	now := clock.Or(fc.Clock).Now()
	if c, ok := read(f); ok && c.Valid(now, fc.Floor) {
		return c, nil
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_UN); err != nil {
		return ossd.Credentials{}, fmt.Errorf("unlock %s: %w", f.Name(), err)
	}
	if err := fc.lock(ctx, f, unix.LOCK_EX); err != nil {
		return ossd.Credentials{}, err
	}
	cached, ok := read(f) // another helper may have fetched while we waited
	now = clock.Or(fc.Clock).Now()
	if ok && cached.Valid(now, fc.Floor) {
		return cached, nil
	}
	c, err := fetch(ctx)
	if err != nil {
		if ok && cached.Valid(now, fc.HardMin) {
			return cached, &DegradedError{Left: cached.Expiration.Sub(now), Err: err}
		}
		return ossd.Credentials{}, err
	}
	if err := write(f, c); err != nil {
		return ossd.Credentials{}, err
	}
	return c, nil
}

// open opens (creating) the cache file of key after checking that the
// directory and the file are private to this user.
func (fc *FileCache) open(key string) (*os.File, error) {
	if err := os.MkdirAll(fc.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("credentials cache: %w", err)
	}
	fi, err := os.Lstat(fc.Dir)
	if err != nil {
		return nil, fmt.Errorf("credentials cache: %w", err)
	}
	if err := private(fc.Dir, fi, fs.ModeDir, "chmod 700"); err != nil {
		return nil, err
	}
	name := filepath.Join(fc.Dir, key+".json")
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("credentials cache: %w", err)
	}
	if fi, err = f.Stat(); err == nil {
		err = private(name, fi, 0, "chmod 600")
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// private checks that fi (of path) has the wanted type, belongs to this
// user, and gives nothing to group or others.
func private(path string, fi fs.FileInfo, typ fs.FileMode, fix string) error {
	if fi.Mode().Type() != typ {
		return fmt.Errorf("%w: %s is a %s, want a %s", ErrUnsafeCache, path, typeName(fi.Mode().Type()), typeName(typ))
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%w: %s belongs to uid %d, not to you (uid %d); remove it", ErrUnsafeCache, path, st.Uid, os.Geteuid())
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %04o, so group or others can read it; run: %s %s", ErrUnsafeCache, path, perm, fix, path)
	}
	return nil
}

func typeName(t fs.FileMode) string {
	switch t {
	case 0:
		return "regular file"
	case fs.ModeDir:
		return "directory"
	case fs.ModeSymlink:
		return "symlink"
	}
	return "special file"
}

// lock takes the flock how on f, polling so that ctx can end the wait.
func (fc *FileCache) lock(ctx context.Context, f *os.File, how int) error {
	wait := time.Millisecond
	for {
		err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("lock %s: %w", f.Name(), err)
		}
		t := clock.Or(fc.Clock).NewTimer(wait)
		select {
		case <-t.C():
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("waiting for another ossd credential-process to fetch (lock on %s): %w", f.Name(), ctx.Err())
		}
		wait = min(2*wait, 20*time.Millisecond)
	}
}

// read returns the credentials stored in f, if it holds a valid body.
func read(f *os.File) (ossd.Credentials, bool) {
	b, err := io.ReadAll(io.NewSectionReader(f, 0, maxBody))
	if err != nil || len(b) == 0 {
		return ossd.Credentials{}, false
	}
	c, err := ParseBody(b)
	return c, err == nil
}

// write replaces the contents of f with c. A crash halfway leaves a body
// that does not parse, which the next helper treats as a miss.
func write(f *os.File, c ossd.Credentials) error {
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("credentials cache: %w", err)
	}
	if _, err := f.WriteAt(c.AppendJSON(make([]byte, 0, 1024)), 0); err != nil {
		return fmt.Errorf("credentials cache: %w", err)
	}
	return nil
}
