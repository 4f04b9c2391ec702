// Package packaging_test checks `make install` and `make deb`.
package packaging_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/needs"
)

// TestMakeInstall: make install puts every file under DESTDIR and PREFIX,
// with the units' ExecStart pointing at the installed binary, and the
// binaries are static.
func TestMakeInstall(t *testing.T) {
	makeBin := needs.Tool(t, "make", "make")
	dest := t.TempDir()
	cmd := exec.Command(makeBin, "-C", "..", "install", "DESTDIR="+dest, "PREFIX=/opt/ossd")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	for _, f := range []string{
		"opt/ossd/bin/ossd", "opt/ossd/bin/ossd-credential-process",
		"opt/ossd/lib/systemd/system/ossd.service", "opt/ossd/lib/systemd/system/ossd.socket",
		"opt/ossd/lib/systemd/system/ossd-metadata.socket",
		"opt/ossd/lib/sysusers.d/ossd.conf", "opt/ossd/lib/tmpfiles.d/ossd.conf", "etc/ossd/ossd.toml.example",
	} {
		if _, err := os.Stat(filepath.Join(dest, f)); err != nil {
			t.Errorf("make install did not install %s: %v", f, err)
		}
	}
	unit, _ := os.ReadFile(filepath.Join(dest, "opt/ossd/lib/systemd/system/ossd.service"))
	if !strings.Contains(string(unit), "\nExecStart=/opt/ossd/bin/ossd serve ") {
		t.Errorf("installed ossd.service does not run /opt/ossd/bin/ossd:\n%s", unit)
	}
	bin := filepath.Join(dest, "opt/ossd/bin/ossd")
	out, err := exec.Command("go", "version", "-m", bin).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "CGO_ENABLED=0") {
		t.Errorf("ossd is not a static build: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "config", "check", filepath.Join(dest, "etc/ossd/ossd.toml.example")).CombinedOutput(); err != nil &&
		!strings.Contains(string(out), `unknown group "ossd"`) { // the package's postinst creates the group
		t.Errorf("config check of the example: %v\n%s", err, out)
	}
}

func TestMain(m *testing.M) { needs.Main(m) }
