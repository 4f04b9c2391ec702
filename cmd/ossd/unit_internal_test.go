package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/metadata"
)

// unitDirs reads from a unit file's [Service] section the directories
// systemd lets the service write under ProtectSystem=strict, and the
// environment systemd gives it for them.
func unitDirs(t *testing.T, unit string) (granted []string, env map[string]string, user string) {
	t.Helper()
	env = map[string]string{}
	roots := map[string]struct{ root, env string }{
		"RuntimeDirectory": {"/run", "RUNTIME_DIRECTORY"}, "StateDirectory": {"/var/lib", "STATE_DIRECTORY"},
		"LogsDirectory": {"/var/log", "LOGS_DIRECTORY"}, "CacheDirectory": {"/var/cache", "CACHE_DIRECTORY"},
	}
	for _, line := range strings.Split(unit, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		switch r, dir := roots[k]; {
		case dir:
			var full []string
			for _, d := range strings.Fields(v) {
				full = append(full, filepath.Join(r.root, d))
			}
			granted = append(granted, full...)
			env[r.env] = strings.Join(full, ":")
		case k == "ReadWritePaths":
			for _, p := range strings.Fields(v) {
				granted = append(granted, strings.TrimLeft(p, "-+"))
			}
		case k == "User":
			user = v
		}
	}
	return granted, env, user
}

// defaultWrites returns every path ossd writes by default when run with
// env as its environment and uid euid: the code's own defaults.
func defaultWrites(t *testing.T, env map[string]string, euid int) map[string]string {
	t.Helper()
	getenv := func(k string) string { return env[k] }
	state, err := stateDir(config.Default().URI.StateDir, getenv, euid)
	if err != nil {
		t.Fatalf("no default state dir under the unit: %v", err)
	}
	w := map[string]string{"credentials-URI key": filepath.Join(state, metadata.KeyFile)}
	if p := config.Default().Audit.Path(getenv); p != "" {
		w["audit log"] = p
	} else {
		t.Error("under the unit the audit log goes to stderr (the journal), not to a file: LogsDirectory= is not honoured")
	}
	if rt := getenv("RUNTIME_DIRECTORY"); rt != "" {
		w["runtime state"] = rt
	}
	return w
}

func inside(path string, dirs []string) bool {
	for _, d := range dirs {
		if rel, err := filepath.Rel(d, path); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return true
		}
	}
	return false
}

// checkUnit reports each default path the unit does not let ossd write.
func checkUnit(t *testing.T, service, socket, sysusers string) []string {
	t.Helper()
	granted, env, user := unitDirs(t, service)
	if user == "" || user == "root" {
		t.Fatalf("ossd.service runs as %q; the check assumes a system user", user)
	}
	// systemd sets HOME to the user's home, from the sysusers entry.
	for _, l := range strings.Split(sysusers, "\n") {
		if f := strings.Fields(l); len(f) >= 5 && f[0] == "u" && f[1] == user {
			env["HOME"] = f[len(f)-2]
		}
	}
	writes := defaultWrites(t, env, 4999)
	// The socket is ossd.socket's: systemd binds it, ossd.service gets it.
	for _, l := range strings.Split(socket, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "ListenStream="); ok && strings.HasPrefix(v, "/") {
			writes["socket"] = v
		}
	}
	if writes["socket"] == "" {
		t.Error("ossd.socket has no Unix ListenStream=")
	}
	var bad []string
	for what, p := range writes {
		if !inside(p, granted) {
			bad = append(bad, what+" "+p)
		}
	}
	return bad
}

// TestUnitGrantsEveryDefaultPath: under ProtectSystem=strict the unit may
// write only the directories it declares; every path ossd writes by
// default must be inside one of them. Both lists come from the files:
// the unit's directory settings, and the code's defaults under the
// environment systemd gives the service.
func TestUnitGrantsEveryDefaultPath(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", "systemd", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	service, socket, sysusers := read("ossd.service"), read("ossd.socket"), read("ossd.sysusers")
	if !strings.Contains(service, "ProtectSystem=strict") {
		t.Fatal("ossd.service is no longer ProtectSystem=strict; this check assumes it")
	}
	if bad := checkUnit(t, service, socket, sysusers); len(bad) > 0 {
		t.Errorf("ossd.service does not let ossd write: %s", strings.Join(bad, "; "))
	}
	// Without StateDirectory= the URI key would go to $HOME/.local/state,
	// which the sandbox makes read-only: the check must catch that.
	stripped := strings.Replace(service, "\nStateDirectory=ossd", "\n", 1)
	if bad := checkUnit(t, stripped, socket, sysusers); len(bad) == 0 || !strings.Contains(strings.Join(bad, ";"), "credentials-URI key") {
		t.Errorf("a unit without StateDirectory= passed the check: %v", bad)
	}
}
