package main_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ossd/ossd/internal/localsts"
	"github.com/ossd/ossd/internal/logtest"
	"github.com/ossd/ossd/internal/paths"
	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/internal/tokenstore"
)

// keepEnv is the daemon binary on a config file against a local STS, with
// a runtime directory on a tmpfs that outlives each process, as systemd's
// RuntimeDirectoryPreserve=yes keeps /run/ossd.
type keepEnv struct {
	t        *testing.T
	sts      *localsts.Server
	endpoint string
	dir      string // the config
	run      string // $RUNTIME_DIRECTORY
}

func newKeepEnv(t *testing.T) *keepEnv {
	t.Helper()
	run := testenv.RuntimeDir(t)
	if mem, err := tokenstore.InMemory(run); err != nil || !mem {
		t.Skipf("no tmpfs for the runtime directory (%s: in memory %v, %v)", run, mem, err)
	}
	return newKeepEnvAt(t, run)
}

// newKeepEnvAt is newKeepEnv with the runtime directory run.
func newKeepEnvAt(t *testing.T, run string) *keepEnv {
	t.Helper()
	t.Setenv(paths.EnvRuntimeDirectory, run)
	t.Setenv("HTTP_PROXY", "")
	s, endpoint := testenv.StartSTS(t, "reader", "writer")
	e := &keepEnv{t: t, sts: s, endpoint: endpoint, dir: t.TempDir(), run: run}
	e.config("1h")
	return e
}

// config writes the config: roles reader and writer, reader's session
// lasting readerDuration.
func (e *keepEnv) config(readerDuration string) {
	cfg := stsConfig(e.endpoint, fmt.Sprintf("[log]\nlevel = \"debug\"\n[[role]]\nname = \"reader\"\narn = %q\nduration = %q\n[[role]]\nname = \"writer\"\narn = %q\n",
		testenv.Params("reader").RoleARN, readerDuration, testenv.Params("writer").RoleARN))
	if err := os.WriteFile(filepath.Join(e.dir, "ossd.toml"), []byte(cfg), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

func (e *keepEnv) start() *daemon {
	sock := testenv.SocketPath(e.t)
	return startDaemon(e.t, sock, "serve", "--config", filepath.Join(e.dir, "ossd.toml"), "--socket", sock)
}

// keyIDs fetches every role once and returns their AccessKeyIds.
func (e *keepEnv) keyIDs(d *daemon) map[string]string {
	e.t.Helper()
	out := map[string]string{}
	for _, role := range []string{"reader", "writer"} {
		status, body := get(e.t, d.Socket, "/v1/credentials/"+role)
		var c struct{ AccessKeyId string }
		if err := json.Unmarshal([]byte(body), &c); status != 200 || err != nil {
			e.t.Fatalf("GET %s = %d %s\nstderr:\n%s", role, status, body, d.Stderr)
		}
		out[role] = c.AccessKeyId
	}
	return out
}

// issuedSecrets returns the source secret and every secret the STS issued.
func (e *keepEnv) issuedSecrets() []string {
	secrets := []string{testenv.KeySecret}
	for _, is := range e.sts.Issued() {
		secrets = append(secrets, is.AccessKeySecret, is.SecurityToken)
	}
	return secrets
}

// noSecrets checks the daemons' output for every secret the STS issued.
func (e *keepEnv) noSecrets(ds ...*daemon) {
	e.t.Helper()
	secrets := e.issuedSecrets()
	for i, d := range ds {
		logtest.NoSecrets(e.t, fmt.Sprintf("daemon %d stderr", i+1), d.Stderr.String(), secrets...)
		logtest.NoSecrets(e.t, fmt.Sprintf("daemon %d stdout", i+1), d.Stdout.String(), secrets...)
	}
}

// TestRestartMakesNoSTSCall: a daemon stopped with SIGTERM and started
// again serves the same tokens at once, without calling STS.
func TestRestartMakesNoSTSCall(t *testing.T) {
	e := newKeepEnv(t)
	first := e.start()
	before := e.keyIDs(first)
	first.Stop(t)
	calls := e.sts.Calls()
	if calls != 2 {
		t.Fatalf("first start made %d AssumeRole calls, want 2", calls)
	}
	fi, err := os.Lstat(filepath.Join(e.run, tokenstore.FileName))
	if err != nil || fi.Mode() != 0o600 {
		t.Fatalf("token file after SIGTERM: %v, mode %v; want mode 0600", err, fi.Mode())
	}
	// Any call from now on fails, so a token served below comes from the file.
	e.sts.SetFault(localsts.Fault{Code: "ServiceUnavailable"})
	second := e.start()
	if after := e.keyIDs(second); after["reader"] != before["reader"] || after["writer"] != before["writer"] {
		t.Errorf("after the restart: %v, want the same tokens %v", after, before)
	}
	if got := e.sts.Calls() - calls; got != 0 {
		t.Errorf("second start made %d AssumeRole calls, want 0", got)
	}
	if !strings.Contains(second.Stderr.String(), `restored=2`) {
		t.Errorf("second start does not log 2 tokens restored:\n%s", second.Stderr)
	}
	second.Stop(t)
	e.noSecrets(first, second)
}

// TestCrashLosesLittle: a daemon killed without a chance to save has
// saved its tokens shortly after fetching them.
func TestCrashLosesLittle(t *testing.T) {
	e := newKeepEnv(t)
	first := e.start()
	before := e.keyIDs(first)
	file := filepath.Join(e.run, tokenstore.FileName)
	waitFor(t, func() bool {
		b, err := os.ReadFile(file)
		return err == nil && strings.Contains(string(b), before["reader"]) && strings.Contains(string(b), before["writer"])
	})
	first.Kill(t)
	calls := e.sts.Calls()
	second := e.start()
	if after := e.keyIDs(second); after["reader"] != before["reader"] || after["writer"] != before["writer"] {
		t.Errorf("after the crash: %v, want the same tokens %v", after, before)
	}
	if got := e.sts.Calls() - calls; got != 0 {
		t.Errorf("start after the crash made %d AssumeRole calls, want 0", got)
	}
	e.noSecrets(first, second)
}

// TestKeptTokensNotTrusted: a token whose role's config changed, or a file
// that others could have read or written, is not used: the daemon logs why
// and asks STS.
func TestKeptTokensNotTrusted(t *testing.T) {
	tests := []struct {
		name   string
		change func(e *keepEnv, file string)
		calls  int    // AssumeRole calls of the second start
		want   string // in its log
	}{
		{"changed duration", func(e *keepEnv, _ string) { e.config("2h") }, 1, "matches no configured role"},
		{"group-readable file", func(_ *keepEnv, f string) { os.Chmod(f, 0o640) }, 2, "mode 0640) has permission bits for group or others"},
		{"garbage", func(_ *keepEnv, f string) { os.WriteFile(f, []byte("{\"version\":1,"), 0o600) }, 2, "not a valid token file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newKeepEnv(t)
			first := e.start()
			before := e.keyIDs(first)
			first.Stop(t)
			tc.change(e, filepath.Join(e.run, tokenstore.FileName))
			calls := e.sts.Calls()
			second := e.start()
			after := e.keyIDs(second)
			if got := e.sts.Calls() - calls; got != tc.calls {
				t.Errorf("second start made %d AssumeRole calls, want %d", got, tc.calls)
			}
			if after["reader"] == before["reader"] {
				t.Error("reader: the kept token was served")
			}
			if !strings.Contains(second.Stderr.String(), tc.want) {
				t.Errorf("log does not say %q:\n%s", tc.want, second.Stderr)
			}
			second.Stop(t)
			e.noSecrets(first, second)
		})
	}
}

// TestNoTokensOnDisk: with a runtime directory on persistent storage the
// daemon says once that it does not keep tokens, and writes none.
func TestNoTokensOnDisk(t *testing.T) {
	run, err := os.MkdirTemp("", "ossd-disk-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(run)
	if mem, err := tokenstore.InMemory(run); err != nil || mem {
		t.Skipf("%s is in memory (or unknown: %v); the test needs a directory on disk", run, err)
	}
	e := newKeepEnvAt(t, run)
	d := e.start()
	e.keyIDs(d)
	d.Stop(t)
	if n := strings.Count(d.Stderr.String(), "not in memory"); n != 1 {
		t.Errorf("log says %d times that the directory is not in memory, want once:\n%s", n, d.Stderr)
	}
	if ls, _ := os.ReadDir(run); len(ls) != 0 {
		t.Errorf("%d files written to the runtime directory on disk", len(ls))
	}
}

// TestOtherUserCannotReadKeptTokens: another local user cannot read the
// file, even when the runtime directory lets everyone in: the file's own
// mode is the barrier.
func TestOtherUserCannotReadKeptTokens(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a reader as another user")
	}
	e := newKeepEnv(t)
	d := e.start()
	e.keyIDs(d)
	d.Stop(t)
	if err := os.Chmod(e.run, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(e.run, tokenstore.FileName)
	cmd := exec.Command("/bin/cat", file)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 4802, Gid: 4802}}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Errorf("uid 4802 read %s", file)
	}
	logtest.NoSecrets(t, "what uid 4802 read", string(out), e.issuedSecrets()...)
}

// TestRestartKeepsChainedRoles: a role assumed through its source_role is
// kept with the key that names its signer, and comes back with it.
func TestRestartKeepsChainedRoles(t *testing.T) {
	run := testenv.RuntimeDir(t)
	if mem, err := tokenstore.InMemory(run); err != nil || !mem {
		t.Skipf("no tmpfs for the runtime directory (%s)", run)
	}
	t.Setenv(paths.EnvRuntimeDirectory, run)
	t.Setenv("HTTP_PROXY", "")
	s, endpoint := testenv.StartSTS(t, "hub", "app")
	path := writeConfig(t, stsConfig(endpoint, hubAndApp("")))
	start := func() (*daemon, string) {
		sock := testenv.SocketPath(t)
		d := startDaemon(t, sock, "serve", "--config", path, "--socket", sock)
		status, body := get(t, sock, "/v1/credentials/app")
		return d, accessKeyID(t, fmt.Sprint(status, " ", body))
	}
	first, before := start()
	first.Stop(t)
	calls := s.Calls()
	second, after := start()
	if after != before {
		t.Errorf("app after the restart: %s, want the kept %s", after, before)
	}
	if got := s.Calls() - calls; got != 0 {
		t.Errorf("second start made %d AssumeRole calls, want 0", got)
	}
	second.Stop(t)
	(&keepEnv{t: t, sts: s}).noSecrets(first, second)
}
