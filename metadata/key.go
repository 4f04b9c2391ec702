package metadata

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/safepath"
)

// KeyFile is the name of the credentials-URI key in the state directory.
const KeyFile = "uri.key"

const keyBytes = 32

// Key is the secret that per-role credentials-URI paths derive from. It
// renders as REDACTED everywhere. The zero Key is not usable.
type Key struct{ k [keyBytes]byte }

// NewKey returns a random Key that lives only in memory.
func NewKey() *Key {
	k := new(Key)
	rand.Read(k.k[:]) // crypto/rand.Read never fails on Linux; it crashes the program instead
	return k
}

// Token returns the URL path token of role: HMAC-SHA256 of the role name
// under k, base64url. It is as secret as the credentials it opens.
func (k Key) Token(role string) string {
	m := hmac.New(sha256.New, k.k[:])
	m.Write([]byte("ossd credentials-uri v1\x00"))
	m.Write([]byte(role))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// String returns REDACTED.
func (Key) String() string { return ossd.Redacted }

// GoString returns REDACTED.
func (Key) GoString() string { return ossd.Redacted }

// LogValue returns REDACTED.
func (Key) LogValue() slog.Value { return slog.StringValue(ossd.Redacted) }

// LoadKey reads the Key in dir/uri.key, creating dir (0700) and the file
// (0600) when missing, so that the URLs survive restarts. Two daemons
// starting at once agree on one key: the file appears atomically and is
// never replaced. dir must be absolute and pass the [safepath] rule; the key
// file is read without following a link, and refused unless it is a regular
// file of ours that group and others cannot access, and well formed.
func LoadKey(dir string) (*Key, error) {
	if !filepath.IsAbs(dir) {
		return nil, fmt.Errorf("state dir %s: not an absolute path", dir)
	}
	d, err := safepath.Default().MkdirAll(dir)
	if err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	defer d.Close() // O_PATH: nothing to flush
	k, err := readKey(d)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	if err := createKey(filepath.Join(dir, KeyFile), NewKey()); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	return readKey(d) // ours, or the one a concurrent start created first
}

func readKey(d *safepath.Dir) (*Key, error) {
	f, err := d.OpenFile(KeyFile, os.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("read uri key: %w", err)
	}
	defer f.Close() // read-only: a close error loses nothing
	buf := make([]byte, 2*keyBytes+2)
	n, _ := f.Read(buf) // a short or failed read shows as a malformed key below
	b, err := hex.DecodeString(strings.TrimSpace(string(buf[:n])))
	if err != nil || len(b) != keyBytes {
		return nil, fmt.Errorf("read uri key: %s is malformed (want %d hex digits); remove it to make a new key, which changes every credentials URI", f.Name(), 2*keyBytes)
	}
	k := new(Key)
	copy(k.k[:], b)
	return k, nil
}

// createKey writes k to a temporary file and links it into place, which
// fails with fs.ErrExist if a key is already there.
func createKey(path string, k *Key) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".uri.key-*") // mode 0600
	if err != nil {
		return fmt.Errorf("create uri key: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the link, or after a failure; the path stays
	_, err = tmp.WriteString(hex.EncodeToString(k.k[:]) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("create uri key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return fmt.Errorf("create uri key: %w", err)
	}
	return nil
}
