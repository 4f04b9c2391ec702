package main_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/localsts"
	"github.com/ossd/ossd/internal/logtest"
	"github.com/ossd/ossd/internal/testenv"
)

// directSetup starts a local STS and writes a config pointing at it.
func directSetup(t *testing.T) (*localsts.Server, string) {
	t.Helper()
	s, endpoint := testenv.StartSTS(t, "reader")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte(testenv.KeySecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`
[source]
type = "access_key"
access_key_id = %q
access_key_secret_file = "secret"
[sts]
region = "cn-hangzhou"
endpoint = %q
[[role]]
name = "reader"
arn = %q
[[role]]
name = "writer"
arn = %q
`, testenv.KeyID, endpoint, testenv.Params("reader").RoleARN, testenv.Params("writer").RoleARN)
	path := filepath.Join(dir, "ossd.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return s, path
}

// TestCredentialProcessDirectShares starts 20 direct-mode helpers at once:
// they must make exactly one AssumeRole call and print the same token.
func TestCredentialProcessDirectShares(t *testing.T) {
	s, cfg := directSetup(t)
	runtime := filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(runtime, 0o700); err != nil {
		t.Fatal(err)
	}
	env := []string{"XDG_RUNTIME_DIR=" + runtime}
	args := []string{"credential-process", "--direct", "--config", cfg, "--role", "reader"}
	type result struct{ out, err bytes.Buffer }
	results := make([]*result, 20)
	cmds := make([]*exec.Cmd, 20)
	for i := range cmds {
		results[i] = new(result)
		cmds[i] = exec.Command(ossdBin, args...)
		cmds[i].Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
		cmds[i].Stdout, cmds[i].Stderr = &results[i].out, &results[i].err
	}
	for _, c := range cmds {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Errorf("helper %d: %v\n%s", i, err, results[i].err.String())
		}
	}
	first := results[0].out.String()
	m := checkOutput(t, first)
	for i, r := range results {
		if r.out.String() != first {
			t.Errorf("helper %d printed %q, helper 0 %q", i, r.out.String(), first)
		}
	}
	if n := s.Calls(); n != 1 {
		t.Errorf("STS calls = %d, want 1", n)
	}
	issued := s.Issued()
	if len(issued) != 1 || m["sts_token"] != issued[0].SecurityToken || m["access_key_secret"] != issued[0].AccessKeySecret {
		t.Errorf("printed credentials are not the ones STS issued")
	}
	if out, _, code := runBin(t, env, args...); code != 0 || out != first || s.Calls() != 1 {
		t.Errorf("later helper: exit %d, same output %v, STS calls %d; want the cached token and no call", code, out == first, s.Calls())
	}
	files, _ := filepath.Glob(filepath.Join(runtime, "ossd", "cache", "*.json"))
	if len(files) != 1 {
		t.Fatalf("cache files = %v, want one", files)
	}
	for path, want := range map[string]os.FileMode{files[0]: 0o600, filepath.Dir(files[0]): 0o700} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, %v; want %04o", path, fi.Mode().Perm(), err, want)
		}
	}
	for i, r := range results {
		logtest.NoSecrets(t, fmt.Sprintf("helper %d stderr", i), r.err.String(), testenv.KeySecret, issued[0].AccessKeySecret, issued[0].SecurityToken)
	}
}

func TestCredentialProcessDirectRefusals(t *testing.T) {
	s, cfg := directSetup(t)
	runtime := filepath.Join(t.TempDir(), "run")
	open := filepath.Join(runtime, "ossd", "cache")
	if err := os.MkdirAll(open, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(open, 0o755)
	tests := []struct {
		name string
		env  []string
		args []string
		want []string
	}{
		{"cache dir readable by others", []string{"XDG_RUNTIME_DIR=" + runtime}, []string{"--role", "reader"}, []string{open, "mode 0755", "chmod 700"}},
		{"unknown role", []string{"XDG_RUNTIME_DIR=" + t.TempDir()}, []string{"--role", "nosuch"}, []string{`no role "nosuch"`, "reader, writer"}},
		{"bad session", []string{"XDG_RUNTIME_DIR=" + t.TempDir()}, []string{"--role", "reader", "--session", "a b"}, []string{"--session a b", "malformed session name"}},
		{"no private dir", []string{"HOME="}, []string{"--role", "reader"}, []string{"XDG_RUNTIME_DIR"}},
		{"missing config", nil, []string{"--role", "reader", "--config", "/nonexistent.toml"}, []string{"/nonexistent.toml"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"credential-process", "--direct", "--config", cfg}, tc.args...)
			stdout, stderr, code := runBin(t, tc.env, args...)
			if code != 1 || stdout != "" {
				t.Errorf("exit %d, stdout %q; want 1 and nothing", code, stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
	if s.Calls() != 0 {
		t.Errorf("STS calls = %d, want none: every case fails before fetching", s.Calls())
	}
}

// TestCredentialProcessDirectSTSErrors: STS refusing or unreachable gives
// an error naming the STS code, with no secret in it, and nothing on stdout.
func TestCredentialProcessDirectSTSErrors(t *testing.T) {
	s, cfg := directSetup(t)
	args := []string{"credential-process", "--direct", "--config", cfg, "--role", "reader"}
	s.SetFault(localsts.Fault{Code: "NoPermission", Status: 403})
	stdout, stderr, code := runBin(t, []string{"XDG_RUNTIME_DIR=" + t.TempDir()}, args...)
	if code != 1 || stdout != "" || !strings.Contains(stderr, "NoPermission") {
		t.Errorf("STS refusing: exit %d, stdout %q, stderr %q; want 1, nothing, NoPermission", code, stdout, stderr)
	}
	s.Close()
	stdout, stderr2, code := runBin(t, []string{"XDG_RUNTIME_DIR=" + t.TempDir()}, args...)
	if code != 1 || stdout != "" || !strings.Contains(stderr2, "ossd.TransportError") {
		t.Errorf("STS down: exit %d, stdout %q, stderr %q; want 1, nothing, ossd.TransportError", code, stdout, stderr2)
	}
	logtest.NoSecrets(t, "stderr", stderr+stderr2, testenv.KeySecret)
}
