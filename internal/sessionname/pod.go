package sessionname

import "strings"

// PodOf returns the UID of the Kubernetes pod of a process in the cgroup
// path cgroup, in the two layouts the kubelet makes:
//
//	cgroupfs driver: /kubepods/burstable/pod<uid>/<container>
//	systemd driver:  /kubepods.slice/kubepods-burstable.slice/
//	                 kubepods-burstable-pod<uid with _ for ->.slice/cri-containerd-<id>.scope
//
// (guaranteed pods sit directly under kubepods; besteffort like burstable).
// The UID comes back with dashes.
//
// Only the kubelet's own levels are trusted: a container may create
// cgroups of any name below its own, and a delegated systemd unit below
// itself, so the pod is the first pod level, reached through kubepods (and
// its QoS level) or, with the systemd driver, through slices only, which
// only systemd creates. A path relative to the reader's cgroup namespace
// ("/../../burstable/pod<uid>/<ctr>", as a containerised ossd sees other
// pods) may climb first.
func PodOf(cgroup string) (string, bool) {
	rest, ok := strings.CutPrefix(cgroup, "/")
	if !ok {
		return "", false
	}
	comps := strings.Split(rest, "/")
	climbed := 0
	for climbed < len(comps) && comps[climbed] == ".." {
		climbed++
	}
	comps = comps[climbed:]
	if uid, ok := systemdPod(comps); ok {
		return uid, true
	}
	return cgroupfsPod(comps, climbed > 0)
}

// systemdPod finds the pod slice below a path of slices.
func systemdPod(comps []string) (string, bool) {
	for _, c := range comps {
		if !isSlice(c) {
			return "", false
		}
		words := strings.Split(strings.TrimSuffix(c, ".slice"), "-")
		last := words[len(words)-1]
		if len(words) < 2 || !strings.HasPrefix(last, "pod") {
			continue
		}
		for _, w := range words[:len(words)-1] {
			if w == "kubepods" {
				return podUID(strings.ReplaceAll(last[len("pod"):], "_", "-"))
			}
		}
	}
	return "", false
}

// cgroupfsPod finds the pod level under kubepods and its QoS level. An
// absolute path must start at kubepods; one that climbed may start below.
func cgroupfsPod(comps []string, climbed bool) (string, bool) {
	i := 0
	if i < len(comps) && comps[i] == "kubepods" {
		i++
	} else if !climbed {
		return "", false
	}
	if i < len(comps) && (comps[i] == "burstable" || comps[i] == "besteffort") {
		i++
	}
	if i == len(comps) {
		return "", false
	}
	uid, ok := strings.CutPrefix(comps[i], "pod")
	if !ok {
		return "", false
	}
	return podUID(uid)
}

// podUID checks the shape of a pod UID: 8-64 of lower-case hex and '-'
// (a UUID, or the 32 hex digits of a static pod's hash), starting with a
// digit or letter.
func podUID(s string) (string, bool) {
	if len(s) < 8 || len(s) > 64 || s[0] == '-' {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || c == '-') {
			return "", false
		}
	}
	return s, true
}
