package systemd_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const analyze = "/usr/bin/systemd-analyze"

// maxExposure is the highest `systemd-analyze security` score ossd.service
// may have (Debian's own systemd-timesyncd.service has 2.3).
const maxExposure = 1.5

var units = []string{"ossd.service", "ossd.socket", "ossd-metadata.socket"}

var exposureRE = regexp.MustCompile(`Overall exposure level for \S+: ([0-9]+(?:\.[0-9]+)?)`)

// exposure runs systemd-analyze security on the unit file at path.
func exposure(t *testing.T, path string) float64 {
	t.Helper()
	out, err := exec.Command(requireTool(t, analyze), "security", "--offline=true", "--no-pager", path).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security %s: %v\n%s", path, err, out)
	}
	m := exposureRE.FindSubmatch(out)
	if m == nil {
		t.Fatalf("no exposure level in:\n%s", out)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestServiceExposure(t *testing.T) {
	if got := exposure(t, "ossd.service"); got > maxExposure {
		t.Errorf("ossd.service exposure = %.1f, want <= %.1f; run `systemd-analyze security --offline=true systemd/ossd.service`", got, maxExposure)
	}
	// The same unit without its sandbox scores far worse: the parse and the
	// threshold can fail.
	bare := filepath.Join(t.TempDir(), "ossd.service")
	src := readUnit(t, "ossd.service")
	before, _, _ := strings.Cut(src, "# Sandbox.")
	if before == src {
		t.Fatal("ossd.service has no '# Sandbox.' section")
	}
	writeFile(t, bare, before)
	if got := exposure(t, bare); got <= maxExposure {
		t.Errorf("unsandboxed copy exposure = %.1f, want > %.1f", got, maxExposure)
	}
}

// TestUnitsVerify runs systemd-analyze verify, which must print nothing.
// verify wants ExecStart's binary to exist, so it checks copies whose
// ExecStart runs this test binary instead of /usr/bin/ossd.
func TestUnitsVerify(t *testing.T) {
	tool := requireTool(t, analyze)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var paths []string
	for _, u := range units {
		src := readUnit(t, u)
		if u == "ossd.service" {
			if !strings.Contains(src, "\nExecStart=/usr/bin/ossd serve ") {
				t.Fatal("ossd.service: ExecStart is not /usr/bin/ossd serve")
			}
			src = strings.Replace(src, "ExecStart=/usr/bin/ossd ", "ExecStart="+self+" ", 1)
		}
		p := filepath.Join(dir, u)
		writeFile(t, p, src)
		paths = append(paths, p)
	}
	verify := func(paths ...string) string {
		out, err := exec.Command(tool, append([]string{"verify", "--man=no"}, paths...)...).CombinedOutput()
		if err != nil {
			return err.Error() + "\n" + string(out)
		}
		return string(out)
	}
	if out := verify(paths...); out != "" {
		t.Errorf("systemd-analyze verify is not clean:\n%s", out)
	}
	// A misspelt key is reported: the check can fail.
	bad := filepath.Join(t.TempDir(), "ossd.socket")
	writeFile(t, bad, strings.Replace(readUnit(t, "ossd.socket"), "SocketMode=", "SocketMod=", 1))
	if out := verify(bad); !strings.Contains(out, "SocketMod") {
		t.Errorf("verify of a misspelt key printed %q", out)
	}
}

// TestUnitContract checks the settings other parts of ossd rely on.
func TestUnitContract(t *testing.T) {
	want := map[string][]string{
		"ossd.service": {"Type=notify", "NotifyAccess=main", "WatchdogSec=30s",
			"ExecStart=/usr/bin/ossd serve --config /etc/ossd/ossd.toml", "ExecReload=/bin/kill -HUP $MAINPID",
			"RuntimeDirectory=ossd", "RuntimeDirectoryMode=0750", "RuntimeDirectoryPreserve=yes",
			"StateDirectory=ossd", "LogsDirectory=ossd",
			"User=ossd", "Group=ossd", "Restart=on-failure", "Requires=ossd.socket"},
		"ossd.socket": {"ListenStream=/run/ossd/ossd.sock", "FileDescriptorName=ossd", "SocketMode=0660",
			"SocketGroup=ossd", "Service=ossd.service"},
		"ossd-metadata.socket": {"ListenStream=127.0.0.1:8100", "FileDescriptorName=ossd-metadata", "Service=ossd.service"},
	}
	for u, lines := range want {
		set := map[string]bool{}
		for _, l := range strings.Split(readUnit(t, u), "\n") {
			set[strings.TrimSpace(l)] = true
		}
		for _, l := range lines {
			if !set[l] {
				t.Errorf("%s lacks the line %q", u, l)
			}
		}
	}
}

func readUnit(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
