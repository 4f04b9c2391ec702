package sessionname_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/peer"
	"github.com/ossd/ossd/internal/sessionname"
)

const podUID = "0a1b2c3d-1111-4222-8333-444455556666"

var unitTests = []struct {
	name, cgroup, want string // want "" = no unit
}{
	{"system service", "/system.slice/app.service", "app.service"},
	{"nested slices", "/system.slice/system-getty.slice/getty@tty1.service", "getty@tty1.service"},
	{"session scope", "/user.slice/user-1000.slice/session-3.scope", "session-3.scope"},
	{"user unit", "/user.slice/user-1000.slice/user@1000.service/app.slice/app.service", "app.service@u1000"},
	{"user unit direct", "/user.slice/user-1000.slice/user@1000.service/app.service", "app.service@u1000"},
	{"user manager itself", "/user.slice/user-1000.slice/user@1000.service/init.scope", "init.scope@u1000"},
	{"user manager no unit below", "/user.slice/user-1000.slice/user@1000.service/weird", "user@1000.service"},
	{"init", "/init.scope", "init.scope"},
	{"docker scope", "/system.slice/docker-0123abcd.scope", "docker-0123abcd.scope"},
	{"delegated subtree", "/system.slice/app.service/evil.service", "app.service"},
	{"delegated user lookalike", "/system.slice/app.service/user@0.service/x.service", "app.service"},
	{"kube container", "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0a1b.slice/cri-containerd-ab.scope", "cri-containerd-ab.scope"},
	{"root", "/", ""},
	{"only slices", "/system.slice", ""},
	{"not a unit", "/system.slice/app", ""},
	{"cgroupfs kube", "/kubepods/burstable/pod" + podUID + "/ctr", ""},
	{"relative to a namespace", "/../app.service", ""},
	{"relative inside", "/system.slice/../app.service", ""},
	{"empty", "", ""},
	{"no slash", "system.slice/app.service", ""},
	{"double slash", "/system.slice//app.service", ""},
	{"bare suffix", "/.service", ""},
	{"too long", "/system.slice/" + strings.Repeat("a", 250) + ".service", ""},
}

func TestUnitOf(t *testing.T) {
	for _, tc := range unitTests {
		got, ok := sessionname.UnitOf(tc.cgroup)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%s: UnitOf(%q) = %q, %v; want %q", tc.name, tc.cgroup, got, ok, tc.want)
		}
	}
}

var podTests = []struct {
	name, cgroup, want string
}{
	{"cgroupfs burstable", "/kubepods/burstable/pod" + podUID + "/0123abcd", podUID},
	{"cgroupfs besteffort", "/kubepods/besteffort/pod" + podUID + "/0123abcd", podUID},
	{"cgroupfs guaranteed", "/kubepods/pod" + podUID + "/0123abcd", podUID},
	{"cgroupfs pod level", "/kubepods/pod" + podUID, podUID},
	{"static pod hash", "/kubepods/burstable/pod6f1c0e3b5a7d9f2e4c6b8a0d1e3f5a7c/ctr", "6f1c0e3b5a7d9f2e4c6b8a0d1e3f5a7c"},
	{"systemd burstable", "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + strings.ReplaceAll(podUID, "-", "_") + ".slice/cri-containerd-0123.scope", podUID},
	{"systemd besteffort", "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + strings.ReplaceAll(podUID, "-", "_") + ".slice/crio-0123.scope", podUID},
	{"systemd guaranteed", "/kubepods.slice/kubepods-pod" + strings.ReplaceAll(podUID, "-", "_") + ".slice/cri-containerd-0123.scope", podUID},
	{"systemd kind root", "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-pod" + strings.ReplaceAll(podUID, "-", "_") + ".slice/cri-containerd-1.scope", podUID},
	{"cgroup namespace, cgroupfs", "/../../../burstable/pod" + podUID + "/ctr", podUID},
	{"cgroup namespace, guaranteed", "/../../../pod" + podUID + "/ctr", podUID},
	{"cgroup namespace, systemd", "/../../../kubepods-burstable.slice/kubepods-burstable-pod" + strings.ReplaceAll(podUID, "-", "_") + ".slice/cri-containerd-1.scope", podUID},
	{"nested fake pod below a container", "/kubepods/burstable/pod" + podUID + "/ctr/kubepods/burstable/podffffffff-ffff-ffff-ffff-ffffffffffff/x", podUID},
	{"systemd nested fake pod", "/kubepods.slice/kubepods-pod" + strings.ReplaceAll(podUID, "-", "_") + ".slice/cri-containerd-1.scope/kubepods-podffffffff.slice", podUID},
	{"fake pod in a delegated unit", "/system.slice/app.service/kubepods-podffffffff_ffff.slice/x.scope", ""},
	{"fake cgroupfs pod in a unit", "/system.slice/app.service/kubepods/podffffffff-ffff/x", ""},
	{"fake pod under a user manager", "/user.slice/user-1000.slice/user@1000.service/kubepods-podffffffff.slice/x.scope", ""},
	{"cgroup namespace into a unit", "/../../system.slice/app.service/podffffffff-ffff/x", ""},
	{"pod not under kubepods", "/pod" + podUID + "/ctr", ""},
	{"pod uid upper case", "/kubepods/podABCDEF01-0000/ctr", ""},
	{"pod uid short", "/kubepods/podabc/ctr", ""},
	{"pod uid dash first", "/kubepods/pod-abcdef012/ctr", ""},
	{"sibling container", "/../ctr2", ""},
	{"systemd service", "/system.slice/app.service", ""},
	{"root", "/", ""},
	{"empty", "", ""},
}

func TestPodOf(t *testing.T) {
	for _, tc := range podTests {
		got, ok := sessionname.PodOf(tc.cgroup)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%s: PodOf(%q) = %q, %v; want %q", tc.name, tc.cgroup, got, ok, tc.want)
		}
	}
}

func TestIdentity(t *testing.T) {
	id := peer.Identity{Known: true, UID: 4911, Cgroup: "/system.slice/app.service"}
	pod := peer.Identity{Known: true, UID: 0, Cgroup: "/kubepods/pod" + podUID + "/c"}
	tests := []struct {
		per  sessionname.Per
		id   peer.Identity
		want string
		err  string
	}{
		{sessionname.PerUID, id, "u4911", ""},
		{sessionname.PerUID, peer.Identity{Known: true}, "u0", ""},
		{sessionname.PerUnit, id, "app.service", ""},
		{sessionname.PerPod, pod, podUID, ""},
		{sessionname.PerPod, id, "", `cgroup "/system.slice/app.service" is in no Kubernetes pod`},
		{sessionname.PerUnit, pod, "", `is in no systemd unit`},
		{sessionname.PerUnit, peer.Identity{Known: true}, "", `cgroup (unreadable) is in no systemd unit`},
		{sessionname.PerUID, peer.Identity{UID: 4911}, "", "could not be identified"},
		{sessionname.PerRole, id, "", "names no caller"},
	}
	for _, tc := range tests {
		got, err := sessionname.Identity(tc.per, tc.id)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("Identity(%s, %v) = %q, %v; want %q", tc.per, tc.id, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, sessionname.ErrUnidentified)):
			t.Errorf("Identity(%s, %v) = %q, %v; want an ErrUnidentified containing %q", tc.per, tc.id, got, err, tc.err)
		}
	}
}

func TestParsePer(t *testing.T) {
	for in, want := range map[string]sessionname.Per{"": sessionname.PerRole, "role": sessionname.PerRole, "uid": sessionname.PerUID, "unit": sessionname.PerUnit, "pod": sessionname.PerPod} {
		if got, err := sessionname.ParsePer(in); err != nil || got != want {
			t.Errorf("ParsePer(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"UID", "user", "pid", " uid"} {
		if _, err := sessionname.ParsePer(bad); err == nil {
			t.Errorf("ParsePer(%q) accepted", bad)
		}
	}
}

var (
	unitShape = regexp.MustCompile(`\.(service|scope|socket|mount|swap)(@u[0-9]+)?$`)
	podShape  = regexp.MustCompile(`^[0-9a-f][0-9a-f-]{7,63}$`)
)

// FuzzCgroup checks that UnitOf and PodOf never panic, that what they find
// has the shape of a unit or a pod UID, and that a path with a ".." part
// never yields a unit.
func FuzzCgroup(f *testing.F) {
	for _, tc := range unitTests {
		f.Add(tc.cgroup)
	}
	for _, tc := range podTests {
		f.Add(tc.cgroup)
	}
	f.Fuzz(func(t *testing.T, cgroup string) {
		if u, ok := sessionname.UnitOf(cgroup); ok {
			if !unitShape.MatchString(u) || strings.Contains(u, "/") {
				t.Fatalf("UnitOf(%q) = %q: not a unit name", cgroup, u)
			}
			if strings.Contains(cgroup, "/../") || strings.HasSuffix(cgroup, "/..") {
				t.Fatalf("UnitOf(%q) = %q from a relative path", cgroup, u)
			}
		}
		if p, ok := sessionname.PodOf(cgroup); ok && !podShape.MatchString(p) {
			t.Fatalf("PodOf(%q) = %q: not a pod UID", cgroup, p)
		}
	})
}
