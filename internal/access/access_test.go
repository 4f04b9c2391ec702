package access

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/internal/peer"
)

var lookup = Lookup{
	User: func(n string) (uint32, error) {
		if n == "alice" {
			return 1000, nil
		}
		return 0, errors.New("no such user")
	},
	Group: func(n string) (uint32, error) {
		if n == "ossd" {
			return 500, nil
		}
		return 0, errors.New("no such group")
	},
}

// files makes the executables the cases name: bin/app, bin/other, a
// symlink bin/link to app, and bin/copy, a copy of app (another file).
func files(t *testing.T) (dir string, id func(name string) peer.FileID) {
	dir = t.TempDir()
	bin := filepath.Join(dir, "bin")
	os.Mkdir(bin, 0o755)
	for _, n := range []string{"app", "other", "copy"} {
		if err := os.WriteFile(filepath.Join(bin, n), []byte("#!/bin/true\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("app", filepath.Join(bin, "link")); err != nil {
		t.Fatal(err)
	}
	return dir, func(name string) peer.FileID {
		f, err := peer.FileOf(filepath.Join(bin, name))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
}

func TestCheck(t *testing.T) {
	dir, file := files(t)
	bin := dir + "/bin/"
	alice := peer.Identity{Known: true, UID: 1000, GID: 1000, Groups: []uint32{500}, Exe: bin + "app", ExeFile: file("app"), Cgroup: "/kubepods/pod1/c1", NS: peer.NSOwn}
	bob := peer.Identity{Known: true, UID: 1001, GID: 1001, Exe: bin + "app", ExeFile: file("app"), Cgroup: "/system.slice/x.service", NS: peer.NSOwn}
	with := func(id peer.Identity, f func(*peer.Identity)) peer.Identity { f(&id); return id }
	// The attack of a private mount namespace: the kernel reports the
	// allowed path, but the file running is another one.
	bound := with(alice, func(id *peer.Identity) { id.ExeFile = file("copy") })
	foreign := with(alice, func(id *peer.Identity) { id.NS = "mnt,user" })
	tests := []struct {
		name   string
		allow  config.Allow
		id     peer.Identity
		ok     bool
		reason string
	}{
		{"open role", config.Allow{}, peer.Identity{}, true, ""},
		{"unidentified", config.Allow{UIDs: []uint32{1000}}, peer.Identity{}, false, "not identified"},
		{"user by name", config.Allow{Users: []string{"alice"}}, alice, true, ""},
		{"user by uid", config.Allow{UIDs: []uint32{1000}}, bob, false, "uid 1001"},
		{"supplementary group", config.Allow{Groups: []string{"ossd"}}, alice, true, ""},
		{"group missing", config.Allow{GIDs: []uint32{500}}, bob, false, "gid 1001"},
		{"exe exact", config.Allow{Exe: []string{bin + "app"}}, alice, true, ""},
		{"exe through a symlink", config.Allow{Exe: []string{bin + "link"}}, alice, true, ""},
		{"exe pattern", config.Allow{Exe: []string{bin + "a*"}}, alice, true, ""},
		{"exe wrong", config.Allow{Exe: []string{bin + "other"}}, alice, false, "not in allow.exe"},
		{"exe unknown", config.Allow{Exe: []string{bin + "app"}}, peer.Identity{Known: true, NS: peer.NSOwn}, false, "unknown"},
		{"exe path right, file wrong", config.Allow{Exe: []string{bin + "app"}}, bound, false, "not the file at that path"},
		{"exe pattern right, file wrong", config.Allow{Exe: []string{bin + "*"}}, bound, false, "not the file at that path"},
		{"exe file missing", config.Allow{Exe: []string{dir + "/gone"}}, alice, false, "not in allow.exe"},
		{"exe foreign namespace", config.Allow{Exe: []string{bin + "app"}}, foreign, false, "another mnt,user namespace"},
		{"exe namespaces unknown", config.Allow{Exe: []string{bin + "app"}}, with(alice, func(id *peer.Identity) { id.NS = "" }), false, "namespaces unknown"},
		{"exe foreign namespace allowed", config.Allow{Exe: []string{bin + "app"}, ForeignNamespaces: true}, foreign, true, ""},
		{"exe foreign namespace allowed, file wrong", config.Allow{Exe: []string{bin + "app"}, ForeignNamespaces: true}, with(bound, func(id *peer.Identity) { id.NS = "mnt" }), false, "not the file"},
		{"cgroup subtree", config.Allow{Cgroups: []string{"/kubepods/**"}}, alice, true, ""},
		{"cgroup subtree no prefix trick", config.Allow{Cgroups: []string{"/kube/**"}}, peer.Identity{Known: true, Cgroup: "/kubepods/x", NS: peer.NSOwn}, false, "cgroup"},
		{"cgroup pattern", config.Allow{Cgroups: []string{"/system.slice/*.service"}}, bob, true, ""},
		{"cgroup foreign namespace", config.Allow{Cgroups: []string{"/kubepods/**"}}, foreign, false, "namespace"},
		{"cgroup foreign namespace allowed", config.Allow{Cgroups: []string{"/kubepods/**"}, ForeignNamespaces: true}, foreign, true, ""},
		{"uids ignore namespaces", config.Allow{UIDs: []uint32{1000}}, foreign, true, ""},
		{"all settings must match", config.Allow{UIDs: []uint32{1000}, Exe: []string{bin + "other"}}, alice, false, "executable"},
		{"exe and cgroup both checked", config.Allow{Exe: []string{bin + "app"}, Cgroups: []string{"/other"}}, alice, false, "cgroup"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Compile(tc.allow, lookup)
			if err != nil {
				t.Fatal(err)
			}
			ok, reason := r.Check(tc.id)
			if ok != tc.ok || !strings.Contains(reason, tc.reason) {
				t.Errorf("Check = %v %q, want %v %q", ok, reason, tc.ok, tc.reason)
			}
		})
	}
}

// TestCheckReplacedFile: a literal path is stat'ed at each check, so a
// running process started from a file since replaced (an upgrade) no
// longer matches, and the new file does.
func TestCheckReplacedFile(t *testing.T) {
	dir, file := files(t)
	app := dir + "/bin/app"
	old := peer.Identity{Known: true, Exe: app, ExeFile: file("app"), NS: peer.NSOwn}
	r, err := Compile(config.Allow{Exe: []string{app}}, lookup)
	if err != nil {
		t.Fatal(err)
	}
	if ok, why := r.Check(old); !ok {
		t.Fatalf("Check before the upgrade = %q", why)
	}
	if err := os.Rename(dir+"/bin/copy", app); err != nil {
		t.Fatal(err)
	}
	if ok, _ := r.Check(old); ok {
		t.Error("a process of the replaced file still matches")
	}
	if ok, why := r.Check(peer.Identity{Known: true, Exe: app, ExeFile: file("app"), NS: peer.NSOwn}); !ok {
		t.Errorf("the new file does not match: %q", why)
	}
}

func TestCompileUnknownNames(t *testing.T) {
	for _, a := range []config.Allow{{Users: []string{"mallory"}}, {Groups: []string{"wheel"}}} {
		if _, err := Compile(a, lookup); err == nil {
			t.Errorf("Compile(%+v) accepted an unknown name", a)
		}
	}
}
