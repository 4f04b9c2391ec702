package tokenstore

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"sync"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/cache"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/safepath"
)

// FileName is the name of the state file in the runtime directory.
const FileName = "tokens"

// MaxFileSize bounds the state file: a larger one is not read, and Save
// leaves out on-demand sessions that would not fit. A token takes about
// 1.5 KB, so the default server.max_sessions (10,000) fits four times.
const MaxFileSize = 64 << 20

// ErrNotInMemory is returned for a runtime directory on persistent
// storage: tokens are never written there.
var ErrNotInMemory = errors.New("runtime directory is not in memory (tmpfs or ramfs)")

// Options configure a Store. Dir and Cache are required.
type Options struct {
	Dir   string       // the runtime directory
	Cache *cache.Cache // the tokens Save writes
	// Fingerprint identifies the STS in force at start (see [Fingerprint]):
	// Load uses only tokens it issued.
	Fingerprint string
	Floor       time.Duration // tokens with no more than this left are not saved
	MaxSessions int           // most on-demand sessions Load restores (server.max_sessions)
	Clock       clock.Clock   // nil = real
	Log         *slog.Logger  // nil = discard

	// inMemory replaces the statfs check; only this package's tests set it.
	inMemory func(dir string) (bool, error)
}

// Store reads and writes the state file. Create it with Open.
type Store struct {
	o        Options
	path     string
	clock    clock.Clock
	log      *slog.Logger
	inMemory func(dir string) (bool, error)
	kick     chan struct{} // a fetch happened since the last save; Run saves

	mu       sync.Mutex        // guards issuedBy and fullWarned
	issuedBy map[string]string // AccessKeyId -> fingerprint of the STS that issued it
	// fullWarned is set once Save has said that the file was full.
	fullWarned bool

	saveMu sync.Mutex // serialises Save
}

// Restorer installs a kept token in the cache; *refresher.Refresher is one.
type Restorer interface {
	Restore(p ossd.Params, c ossd.Credentials, pinned bool) error
}

// Fingerprint identifies the STS a token comes from: the endpoint, the
// region and the identity of the source credential (an AccessKeyId or a
// role name, never a secret). It is a digest, so the file names none of
// them.
func Fingerprint(endpoint, region, source string) string {
	sum := sha256.Sum256([]byte("ossd-sts\x00" + endpoint + "\x00" + region + "\x00" + source))
	return hex.EncodeToString(sum[:16])
}

// Open prepares o.Dir (created 0700 if missing) for the state file. It
// refuses, with an error that says why, a directory on persistent storage
// ([ErrNotInMemory]) and one on a path that others could change
// ([ErrUntrusted], the [safepath] rule); the daemon then runs without
// keeping tokens.
func Open(o Options) (*Store, error) {
	if o.Dir == "" || !filepath.IsAbs(o.Dir) || o.Cache == nil {
		return nil, fmt.Errorf("token store: want an absolute directory and a cache, got %q", o.Dir)
	}
	s := &Store{
		o: o, path: filepath.Join(o.Dir, FileName), clock: clock.Or(o.Clock), log: o.Log,
		inMemory: o.inMemory, kick: make(chan struct{}, 1), issuedBy: make(map[string]string),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.inMemory == nil {
		s.inMemory = InMemory
	}
	d, err := safepath.Default().MkdirAll(o.Dir)
	if err != nil {
		if errors.Is(err, safepath.ErrUnsafe) {
			err = fmt.Errorf("%w: %w", ErrUntrusted, err)
		}
		return nil, fmt.Errorf("token store: %w", err)
	}
	d.Close() // O_PATH: nothing to flush
	if d, err = s.openDir(); err != nil {
		return nil, err
	}
	d.Close()
	return s, nil
}

// openDir checks, before every read and write, the directory and every
// directory above it (the [safepath] rule: only root or ossd can change
// them), and that it is in memory. The caller closes the Dir.
func (s *Store) openDir() (*safepath.Dir, error) {
	d, err := safepath.Default().OpenDir(s.o.Dir)
	if errors.Is(err, safepath.ErrUnsafe) {
		return nil, fmt.Errorf("token store: %w: %w", ErrUntrusted, err)
	}
	if err != nil {
		return nil, fmt.Errorf("token store: %w", err)
	}
	mem, err := s.inMemory(s.o.Dir)
	if err == nil && !mem {
		err = fmt.Errorf("%s: %w", s.o.Dir, ErrNotInMemory)
	}
	if err != nil {
		d.Close() // O_PATH: nothing to flush
		return nil, fmt.Errorf("token store: %w", err)
	}
	return d, nil
}

// Path returns the state file's path.
func (s *Store) Path() string { return s.path }

// Issued records that the token whose AccessKeyId is id came from the STS
// with fingerprint fp, and asks Run for a save. Only tokens recorded so
// are saved. Call it after every successful fetch.
func (s *Store) Issued(id, fp string) {
	s.mu.Lock()
	s.issuedBy[id] = fp
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default: // a save is already pending
	}
}

// Save writes every token of the cache with more than the floor left whose
// source is known (see Issued), configured roles first, replacing the file
// atomically.
func (s *Store) Save() error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	d, err := s.openDir()
	if err != nil {
		return err
	}
	d.Close() // O_PATH: nothing to flush; the path passed, and only root or ossd can change it
	data, left := s.encode(s.clock.Now())
	if left > 0 {
		s.warnFull(left)
	}
	if err := writeAtomic(s.o.Dir, FileName, data); err != nil {
		return fmt.Errorf("token store: %w", err)
	}
	return nil
}

// encode renders the file at wall time now and reports how many tokens
// did not fit in MaxFileSize. It forgets the sources of tokens no longer
// cached. Fetches record sources meanwhile: the lock is held only to copy
// and to prune.
func (s *Store) encode(now time.Time) (data []byte, left int) {
	s.mu.Lock()
	sources := maps.Clone(s.issuedBy)
	s.mu.Unlock()
	live := make(map[string]bool, len(sources))
	var kept []entry
	size := 128 // the header and the trailer
	for _, e := range s.o.Cache.Entries() {
		st := e.State()
		if st == nil {
			continue
		}
		c := st.Creds()
		if !c.Valid(now, s.o.Floor) {
			continue
		}
		fp, ok := sources[c.AccessKeyID]
		if !ok {
			continue
		}
		live[c.AccessKeyID] = true
		ent := newEntry(e.Key, e.Pinned(), fp, c)
		// An entry the format cannot hold (never from STS) is left out, as
		// is one past the size bound.
		if ent.check() != "" || size+lineLen(ent) > MaxFileSize {
			left++
			continue
		}
		kept = append(kept, ent)
		size += lineLen(ent)
	}
	data = appendHeader(make([]byte, 0, size), now)
	for _, ent := range kept {
		data = appendEntry(data, ent)
	}
	s.mu.Lock()
	for id := range sources {
		if !live[id] {
			delete(s.issuedBy, id)
		}
	}
	s.mu.Unlock()
	return appendTrailer(data, len(kept)), left
}

func (s *Store) warnFull(left int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.fullWarned {
		s.fullWarned = true
		s.log.Warn("some tokens are not kept across a restart: the token file is full, or a value has a space or a control character", "file", s.path, "left_out", left, "max_bytes", MaxFileSize)
	}
}
