package tokenstore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/logtest"
	"github.com/ossd/ossd/internal/service"
	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/internal/tokenstore"
	"github.com/ossd/ossd/refresher"
)

// fp is the fingerprint of the STS the tests' daemons talk to.
var fp = tokenstore.Fingerprint("http://127.0.0.1:1", "cn-hangzhou", "access_key:"+testenv.KeyID)

// store is a Store on an env's cache, logging to its own buffer.
type store struct {
	*tokenstore.Store
	logs *logtest.Buffer
}

func open(t *testing.T, e *testenv.Env, dir, fingerprint string) store {
	t.Helper()
	log, buf := logtest.New(t)
	s, err := tokenstore.Open(tokenstore.AssumeInMemory(tokenstore.Options{
		Dir: dir, Cache: e.Cache, Fingerprint: fingerprint, Floor: refresher.DefaultFloor, MaxSessions: 100, Clock: e.Clock, Log: log,
	}))
	if err != nil {
		t.Fatal(err)
	}
	return store{s, buf}
}

// previousRun is a daemon that fetched roles, and on-demand sessions of
// the first role, and saved them in dir. Its STS issued every token.
func previousRun(t *testing.T, dir string, roles []string, sessions ...string) *testenv.Env {
	t.Helper()
	e := testenv.New(t, testenv.Options{}, roles...)
	s := open(t, e, dir, fp)
	ctx := context.Background()
	if errs := e.Service.Apply(ctx, testenv.Roles(roles...)); len(errs) != 0 {
		t.Fatal(errs)
	}
	for _, sess := range sessions {
		if _, err := e.Service.Credentials(ctx, roles[0], sess); err != nil {
			t.Fatal(err)
		}
	}
	for _, en := range e.Cache.Entries() {
		s.Issued(en.State().Creds().AccessKeyID, fp) // as the daemon's fetcher does after every fetch
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	return e
}

// nextRun is the daemon started again: a new core with a new STS on a
// clock that starts where the previous one did; before is called first
// (to move the clock). It loads dir and applies roles.
func nextRun(t *testing.T, dir, fingerprint string, roles []service.Role, before func(*testenv.Env)) (*testenv.Env, store, int) {
	t.Helper()
	var names []string
	ps := make([]ossd.Params, len(roles))
	for i, r := range roles {
		names, ps[i] = append(names, r.Name), r.Params
	}
	e := testenv.New(t, testenv.Options{}, append(names, "writer")...) // writer: a source role
	if before != nil {
		before(e)
	}
	s := open(t, e, dir, fingerprint)
	n := s.Load(ps, e.Ref)
	if errs := e.Service.Apply(context.Background(), roles); len(errs) != 0 {
		t.Fatal(errs)
	}
	return e, s, n
}

func issued(e *testenv.Env) map[string]bool {
	out := map[string]bool{}
	for _, is := range e.STS.Issued() {
		out[is.AccessKeyID] = true
	}
	return out
}

func TestRestartMakesNoCall(t *testing.T) {
	dir := t.TempDir()
	prev := previousRun(t, dir, []string{"reader", "writer"}, "job1")
	fi, err := os.Lstat(filepath.Join(dir, tokenstore.FileName))
	if err != nil || fi.Mode() != 0o600 {
		t.Fatalf("token file: %v, mode %v; want a regular file with mode 0600", err, fi.Mode())
	}
	if ls, _ := os.ReadDir(dir); len(ls) != 1 {
		t.Errorf("directory holds %d files, want only the token file", len(ls))
	}
	next, s, n := nextRun(t, dir, fp, testenv.Roles("reader", "writer"), nil)
	if n != 3 {
		t.Errorf("restored %d tokens, want 3 (two roles, one session)\n%s", n, s.logs)
	}
	was := issued(prev)
	for _, role := range []string{"reader", "writer"} {
		c, err := next.Service.Credentials(context.Background(), role, "")
		if err != nil || !was[c.AccessKeyID] {
			t.Errorf("%s: got %q (err %v), want a token the previous run had", role, c.AccessKeyID, err)
		}
	}
	if c, err := next.Service.Credentials(context.Background(), "reader", "job1"); err != nil || !was[c.AccessKeyID] {
		t.Errorf("session job1: got %q (err %v), want the previous run's", c.AccessKeyID, err)
	}
	if calls := next.STS.Calls(); calls != 0 {
		t.Errorf("AssumeRole calls after the restart = %d, want 0", calls)
	}
	logtest.NoSecrets(t, "token store log", s.logs.String(), prev.Secrets()...)
	next.CheckLogs(prev.Secrets()...)
}

func TestSessionsRestoredAreBounded(t *testing.T) {
	dir := t.TempDir()
	previousRun(t, dir, []string{"reader"}, "a", "b", "c")
	e := testenv.New(t, testenv.Options{}, "reader")
	log, buf := logtest.New(t)
	s, err := tokenstore.Open(tokenstore.AssumeInMemory(tokenstore.Options{
		Dir: dir, Cache: e.Cache, Fingerprint: fp, Floor: refresher.DefaultFloor, MaxSessions: 2, Clock: e.Clock, Log: log,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if n := s.Load([]ossd.Params{testenv.Params("reader")}, e.Ref); n != 3 {
		t.Errorf("restored %d, want the role and 2 of its 3 sessions", n)
	}
	if !strings.Contains(buf.String(), "server.max_sessions") {
		t.Errorf("log does not say why a session was left out:\n%s", buf)
	}
}

// TestSaveKeepsOnlyWhatQualifies: a token whose source is unknown (fetched
// without passing through Issued) or with no more than the floor left is
// not written.
func TestSaveKeepsOnlyWhatQualifies(t *testing.T) {
	dir := t.TempDir()
	e := testenv.New(t, testenv.Options{}, "reader", "writer")
	s := open(t, e, dir, fp)
	reader, writer := e.Get(testenv.Params("reader")), e.Get(testenv.Params("writer"))
	s.Issued(reader.AccessKeyID, fp)
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, tokenstore.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), reader.AccessKeyID) || strings.Contains(string(data), writer.AccessKeyID) {
		t.Errorf("file holds reader %v, writer %v; want only reader (writer's source was never recorded)",
			strings.Contains(string(data), reader.AccessKeyID), strings.Contains(string(data), writer.AccessKeyID))
	}
	e.Clock.Advance(44 * time.Minute)
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if data, _ = os.ReadFile(filepath.Join(dir, tokenstore.FileName)); strings.Contains(string(data), reader.AccessKeyID) {
		t.Error("a token at the floor was saved")
	}
}

// TestSaveReplacesASymlink: a symlink planted at the file's name is
// replaced, and what it points to is left alone.
func TestSaveReplacesASymlink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(dir, tokenstore.FileName)); err != nil {
		t.Fatal(err)
	}
	previousRun(t, dir, []string{"reader"})
	if b, _ := os.ReadFile(victim); string(b) != "keep me" {
		t.Errorf("symlink target rewritten: %q", b)
	}
	if fi, err := os.Lstat(filepath.Join(dir, tokenstore.FileName)); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("token file after save: %v, %v; want a regular file", fi, err)
	}
}

func TestOpenRefusesPersistentStorage(t *testing.T) {
	dir := t.TempDir()
	if mem, err := tokenstore.InMemory(dir); err != nil || mem {
		t.Skipf("%s is in memory (or unknown: %v); the test needs a directory on disk", dir, err)
	}
	e := testenv.New(t, testenv.Options{}, "reader")
	_, err := tokenstore.Open(tokenstore.Options{Dir: dir, Cache: e.Cache})
	if !errors.Is(err, tokenstore.ErrNotInMemory) {
		t.Fatalf("Open on disk = %v, want ErrNotInMemory", err)
	}
	if ls, _ := os.ReadDir(dir); len(ls) != 0 {
		t.Errorf("%d files written to persistent storage", len(ls))
	}
}

func TestOpenAcceptsTmpfs(t *testing.T) {
	dir := testenv.RuntimeDir(t)
	if mem, _ := tokenstore.InMemory(dir); !mem {
		t.Skip("/dev/shm is not a tmpfs here")
	}
	e := testenv.New(t, testenv.Options{}, "reader")
	s, err := tokenstore.Open(tokenstore.Options{Dir: dir, Cache: e.Cache, Clock: e.Clock})
	if err != nil {
		t.Fatalf("Open on tmpfs: %v", err)
	}
	if err := s.Save(); err != nil {
		t.Errorf("Save on tmpfs: %v", err)
	}
}

func TestOpenRefusesADirectoryOthersControl(t *testing.T) {
	e := testenv.New(t, testenv.Options{}, "reader")
	tests := []struct {
		name  string
		setup func(dir string) error
		root  bool
	}{
		{"group-writable", func(dir string) error { return os.Chmod(dir, 0o770) }, false},
		{"world-writable", func(dir string) error { return os.Chmod(dir, 0o777) }, false},
		{"another user's", func(dir string) error { return os.Chown(dir, otherUID, otherUID) }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root && os.Geteuid() != 0 {
				t.Skip("needs root to give the directory to another user")
			}
			dir := t.TempDir()
			if err := tc.setup(dir); err != nil {
				t.Fatal(err)
			}
			_, err := tokenstore.Open(tokenstore.AssumeInMemory(tokenstore.Options{Dir: dir, Cache: e.Cache}))
			if !errors.Is(err, tokenstore.ErrUntrusted) {
				t.Errorf("Open = %v, want ErrUntrusted", err)
			}
		})
	}
}
