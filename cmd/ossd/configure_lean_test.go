package main_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ossd/ossd/internal/testenv"
)

// TestConfigureLeanHelper installs ossd in a directory of its own, with and
// without ossd-credential-process beside it, and checks which command the
// profile gets, then runs that command the way the aliyun CLI does (split
// on spaces, no shell) against a daemon: its stdout must be the
// credentials, byte for byte what ossd credential-process prints.
func TestConfigureLeanHelper(t *testing.T) {
	var calls atomic.Int32
	sock := fixedDaemon(t, fixedFetch(&calls), "reader")
	want, _, code := runBin(t, nil, "credential-process", "--role", "reader", "--socket", sock)
	if code != 0 {
		t.Fatalf("ossd credential-process exit %d", code)
	}
	leanSrc := buildLean(t)
	for _, tc := range []struct {
		name  string
		lean  os.FileMode // mode of the lean helper beside ossd; 0 = none
		owner int         // uid to give the lean helper, as root; 0 = leave it
		runs  string      // what the command must start with, below the install directory
		notes string
	}{
		{"lean helper beside ossd", 0o755, 0, "/ossd-credential-process --role reader", "the profile runs the lean helper"},
		{"no lean helper", 0, 0, "/ossd credential-process --role reader", "ossd is not on PATH"},
		{"lean helper others may write", 0o757, 0, "/ossd credential-process --role reader", "not using"},
		{"lean helper of another user", 0o755, testenv.Attacker, "/ossd credential-process --role reader", "neither root nor the owner"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, home := t.TempDir(), t.TempDir()
			install(t, ossdBin, filepath.Join(dir, "ossd"), 0o755)
			if tc.lean != 0 {
				install(t, leanSrc, filepath.Join(dir, "ossd-credential-process"), tc.lean)
			}
			if tc.owner != 0 {
				if os.Geteuid() != 0 {
					t.Skip("needs root to give the lean helper to another uid")
				}
				if err := os.Chown(filepath.Join(dir, "ossd-credential-process"), tc.owner, tc.owner); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command(filepath.Join(dir, "ossd"), "configure", "aliyun-cli", "--profile", "p", "--role", "reader", "--region", "cn-hangzhou", "--socket", sock)
			cmd.Env = []string{"HOME=" + home, "PATH=/nonexistent"} // ossd is not on PATH
			var errb bytes.Buffer
			cmd.Stderr = &errb
			if err := cmd.Run(); err != nil {
				t.Fatalf("configure: %v\n%s", err, &errb)
			}
			if !strings.Contains(errb.String(), tc.notes) {
				t.Errorf("stderr lacks %q:\n%s", tc.notes, &errb)
			}
			b, err := os.ReadFile(filepath.Join(home, ".aliyun", "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			command := byName(decodeJSON(t, b))["p"]["process_command"].(string)
			if wantCmd := dir + tc.runs + " --socket " + sock; command != wantCmd {
				t.Fatalf("process_command = %q, want %q", command, wantCmd)
			}
			argv := strings.Split(command, " ") // as the aliyun CLI runs it
			out, err := exec.Command(argv[0], argv[1:]...).Output()
			if err != nil || string(out) != want {
				t.Errorf("running the profile's command: %v\n%s\nwant\n%s", err, out, want)
			}
		})
	}
}

// buildLean builds cmd/ossd-credential-process once for the test.
func buildLean(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ossd-credential-process")
	if out, err := exec.Command("go", "build", "-o", bin, "../ossd-credential-process").CombinedOutput(); err != nil {
		t.Fatalf("build ossd-credential-process: %v\n%s", err, out)
	}
	return bin
}

// install copies the binary src to dst with mode.
func install(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dst, mode); err != nil { // past the umask
		t.Fatal(err)
	}
}
