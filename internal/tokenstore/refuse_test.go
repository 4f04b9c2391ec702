package tokenstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/logtest"
	"github.com/ossd/ossd/internal/service"
	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/internal/tokenstore"
)

// otherUID is a user that is not ossd (no passwd entry needed).
const otherUID = 4801

// refusal is a state file an attacker, an accident or a change of config
// made untrustworthy or stale, and what the log must say about it.
type refusal struct {
	name   string
	root   bool                            // needs root
	tamper func(t *testing.T, file string) // changes the saved file
	roles  []service.Role                  // the config of the next run; default reader
	fp     string                          // the STS of the next run; default fp
	before func(e *testenv.Env)            // runs before the load
	calls  int                             // AssumeRole calls of the next run; default 1
	want   string                          // in the log line
	warn   bool                            // the line is a warning: the whole file is refused
}

func refusals() []refusal {
	longer := testenv.Roles("reader")
	longer[0].Params.Duration = 2 * time.Hour
	policy := testenv.Roles("reader")
	policy[0].Params.Policy = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Resource":"*"}]}`
	chained := testenv.Roles("reader")
	via := testenv.Params("writer")
	chained[0].Params.Via = &via
	return []refusal{
		{name: "symlink", tamper: func(t *testing.T, f string) {
			must(t, os.Rename(f, f+".real"))
			must(t, os.Symlink(f+".real", f))
		}, want: "is a symbolic link", warn: true},
		{name: "fifo", tamper: func(t *testing.T, f string) {
			must(t, os.Remove(f))
			must(t, unix.Mkfifo(f, 0o600))
		}, want: "not a regular file", warn: true},
		{name: "directory", tamper: func(t *testing.T, f string) {
			must(t, os.Remove(f))
			must(t, os.Mkdir(f, 0o700))
		}, want: "not a regular file", warn: true},
		{name: "group-readable", tamper: chmod(0o640), want: "mode 0640", warn: true},
		{name: "other-readable", tamper: chmod(0o604), want: "mode 0604", warn: true},
		{name: "group-writable", tamper: chmod(0o620), want: "mode 0620", warn: true},
		{name: "another owner", root: true, tamper: func(t *testing.T, f string) {
			must(t, os.Chown(f, otherUID, otherUID))
		}, want: "4801", warn: true},
		{name: "too large", tamper: func(t *testing.T, f string) {
			must(t, os.Truncate(f, tokenstore.MaxFileSize+1)) // sparse: costs no memory
		}, want: "more than the", warn: true},
		{name: "garbage", tamper: rewrite(func([]byte) []byte { return []byte(rand.Text() + rand.Text()) }), want: "not a valid token file", warn: true},
		{name: "truncated", tamper: rewrite(func(b []byte) []byte { return b[:len(b)/2] }), want: "not a valid token file", warn: true},
		{name: "trailing data", tamper: rewrite(func(b []byte) []byte { return append(b, "end 0\n"...) }), want: "end line does not match", warn: true},
		{name: "wrong count", tamper: rewrite(func(b []byte) []byte { return bytes.Replace(b, []byte("\nend 1\n"), []byte("\nend 2\n"), 1) }), want: "end line does not match", warn: true},
		{name: "wrong version", tamper: rewrite(func(b []byte) []byte {
			return bytes.Replace(b, []byte("ossd-tokens 1\n"), []byte("ossd-tokens 2\n"), 1)
		}), want: "another version than 1", warn: true},
		{name: "extra field", tamper: editEntry(func(f [][]byte) [][]byte { return append(f, []byte("x")) }), want: "14 fields, want 13", warn: true},
		{name: "entry without credentials", tamper: editEntry(func(f [][]byte) [][]byte { f[9] = nil; return f }), want: "incomplete credentials", warn: true},
		{name: "control character", tamper: editEntry(func(f [][]byte) [][]byte { f[8] = append(f[8], '\r'); return f }), want: "a space or a control character", warn: true},
		{name: "changed duration", roles: longer, want: "matches no configured role"},
		{name: "changed policy", roles: policy, want: "matches no configured role"},
		{name: "now signed by another role", roles: chained, calls: 2, want: "matches no configured role"},
		{name: "another STS", fp: tokenstore.Fingerprint("https://sts.cn-shanghai.aliyuncs.com", "cn-shanghai", "access_key:"+testenv.KeyID), want: "another STS"},
		{name: "too little left", before: func(e *testenv.Env) { e.Clock.Advance(44 * time.Minute) }, want: "no more than the floor"},
		{name: "issued later than now", before: func(e *testenv.Env) { e.Clock.StepWall(-time.Hour) }, want: "after now"},
		{name: "lives longer than requested", tamper: editEntry(func(f [][]byte) [][]byte {
			f[11] = []byte(testenv.Epoch.Add(3 * time.Hour).Format(ossd.TimeLayout))
			return f
		}), want: "longer than the 1h0m0s requested"},
	}
}

// TestUntrustedOrStaleFileIsNeverUsed: every refusal is logged, nothing
// from the file is served, STS is asked instead, and no secret of the file
// reaches a log.
func TestUntrustedOrStaleFileIsNeverUsed(t *testing.T) {
	for _, tc := range refusals() {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root && os.Geteuid() != 0 {
				t.Skip("needs root to give the file to another user")
			}
			dir := t.TempDir()
			prev := previousRun(t, dir, []string{"reader"})
			if tc.tamper != nil {
				tc.tamper(t, filepath.Join(dir, tokenstore.FileName))
			}
			roles, fingerprint := tc.roles, tc.fp
			if roles == nil {
				roles = testenv.Roles("reader")
			}
			if fingerprint == "" {
				fingerprint = fp
			}
			next, s, n := nextRun(t, dir, fingerprint, roles, tc.before)
			if n != 0 {
				t.Errorf("restored %d tokens, want 0", n)
			}
			checkLine(t, s.logs.String(), tc.want, tc.warn)
			c, err := next.Service.Credentials(context.Background(), "reader", "")
			if err != nil || issued(prev)[c.AccessKeyID] || !issued(next)[c.AccessKeyID] {
				t.Errorf("served %q (err %v), want a token from the new STS", c.AccessKeyID, err)
			}
			if tc.calls == 0 {
				tc.calls = 1
			}
			if calls := next.STS.Calls(); calls != tc.calls {
				t.Errorf("AssumeRole calls = %d, want %d: STS asked instead", calls, tc.calls)
			}
			logtest.NoSecrets(t, "token store log", s.logs.String(), prev.Secrets()...)
			next.CheckLogs(prev.Secrets()...)
		})
	}
}

// checkLine finds the log line saying want and checks its level.
func checkLine(t *testing.T, logs, want string, warn bool) {
	t.Helper()
	for _, line := range strings.Split(logs, "\n") {
		if !strings.Contains(line, want) {
			continue
		}
		if isWarn := strings.Contains(line, `"level":"WARN"`); isWarn != warn {
			t.Errorf("log line at the wrong level (want warning %v): %s", warn, line)
		}
		return
	}
	t.Errorf("no log line says %q:\n%s", want, logs)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func chmod(mode os.FileMode) func(*testing.T, string) {
	return func(t *testing.T, f string) { must(t, os.Chmod(f, mode)) }
}

// rewrite replaces the file's content, keeping its owner and mode 0600.
func rewrite(change func([]byte) []byte) func(*testing.T, string) {
	return func(t *testing.T, f string) {
		b, err := os.ReadFile(f)
		must(t, err)
		must(t, os.WriteFile(f, change(bytes.Clone(b)), 0o600))
	}
}

// editEntry changes the tab-separated fields of every entry line.
func editEntry(change func([][]byte) [][]byte) func(*testing.T, string) {
	return rewrite(func(b []byte) []byte {
		lines := bytes.Split(b, []byte("\n"))
		for i, l := range lines {
			if f := bytes.Split(l, []byte("\t")); len(f) > 1 {
				lines[i] = bytes.Join(change(f), []byte("\t"))
			}
		}
		return bytes.Join(lines, []byte("\n"))
	})
}
