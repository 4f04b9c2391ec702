package access

import (
	"errors"
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

func TestCheck(t *testing.T) {
	alice := peer.Identity{Known: true, UID: 1000, GID: 1000, Groups: []uint32{500}, Exe: "/usr/bin/app", Cgroup: "/kubepods/pod1/c1"}
	bob := peer.Identity{Known: true, UID: 1001, GID: 1001, Exe: "/usr/bin/app", Cgroup: "/system.slice/x.service"}
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
		{"exe exact", config.Allow{Exe: []string{"/usr/bin/app"}}, alice, true, ""},
		{"exe pattern", config.Allow{Exe: []string{"/usr/bin/a*"}}, alice, true, ""},
		{"exe wrong", config.Allow{Exe: []string{"/opt/other"}}, alice, false, "executable"},
		{"exe unknown", config.Allow{Exe: []string{"/usr/bin/app"}}, peer.Identity{Known: true}, false, "executable"},
		{"cgroup subtree", config.Allow{Cgroups: []string{"/kubepods/**"}}, alice, true, ""},
		{"cgroup subtree no prefix trick", config.Allow{Cgroups: []string{"/kube/**"}}, peer.Identity{Known: true, Cgroup: "/kubepods/x"}, false, "cgroup"},
		{"cgroup pattern", config.Allow{Cgroups: []string{"/system.slice/*.service"}}, bob, true, ""},
		{"all settings must match", config.Allow{UIDs: []uint32{1000}, Exe: []string{"/opt/other"}}, alice, false, "executable"},
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

func TestCompileUnknownNames(t *testing.T) {
	for _, a := range []config.Allow{{Users: []string{"mallory"}}, {Groups: []string{"wheel"}}} {
		if _, err := Compile(a, lookup); err == nil {
			t.Errorf("Compile(%+v) accepted an unknown name", a)
		}
	}
}
