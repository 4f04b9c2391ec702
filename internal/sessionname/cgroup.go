package sessionname

import "strings"

// unitTypes are the systemd unit types whose units hold processes, and so
// cgroups. Slices only group other units.
var unitTypes = [...]string{".service", ".scope", ".socket", ".mount", ".swap"}

// maxUnitName is systemd's limit on a unit name.
const maxUnitName = 255

// UnitOf returns the systemd unit of a process in the cgroup v2 path
// cgroup: /system.slice/app.service gives "app.service". A user unit, under
// the user manager user@UID.service, gives the unit and the uid:
// /user.slice/user-1000.slice/user@1000.service/app.slice/app.service gives
// "app.service@u1000", which no system unit can be called (unit names end
// in their type).
//
// The unit is the first component below the slices. Below it, a unit with
// Delegate=yes may create cgroups of any name (app.service/evil.service),
// so deeper components are never taken for the unit; only below a user
// manager, whose subtree belongs to that user, is the next unit the user's.
// A path relative to a cgroup namespace ("/../x") is not placed: where it
// climbs to is unknown.
func UnitOf(cgroup string) (string, bool) {
	comps, ok := components(cgroup)
	if !ok {
		return "", false
	}
	i := skipSlices(comps, 0)
	if i == len(comps) || !isUnit(comps[i]) {
		return "", false
	}
	unit := comps[i]
	if uid, ok := userManager(unit); ok {
		if j := skipSlices(comps, i+1); j < len(comps) && isUnit(comps[j]) {
			return comps[j] + "@u" + uid, true
		}
	}
	return unit, true
}

// components splits an absolute cgroup path with no "." or ".." parts.
func components(cgroup string) ([]string, bool) {
	rest, ok := strings.CutPrefix(cgroup, "/")
	if !ok || rest == "" {
		return nil, false
	}
	comps := strings.Split(rest, "/")
	for _, c := range comps {
		if c == "" || c == "." || c == ".." {
			return nil, false
		}
	}
	return comps, true
}

func skipSlices(comps []string, i int) int {
	for i < len(comps) && isSlice(comps[i]) {
		i++
	}
	return i
}

func isSlice(c string) bool { return len(c) > len(".slice") && strings.HasSuffix(c, ".slice") }

// isUnit reports whether c is named like a unit that holds processes.
func isUnit(c string) bool {
	if len(c) > maxUnitName {
		return false
	}
	for _, t := range unitTypes {
		if len(c) > len(t) && strings.HasSuffix(c, t) {
			return true
		}
	}
	return false
}

// userManager returns the uid of a user manager unit, user@UID.service.
func userManager(unit string) (string, bool) {
	rest, ok := strings.CutPrefix(unit, "user@")
	if !ok {
		return "", false
	}
	uid, ok := strings.CutSuffix(rest, ".service")
	if !ok || !digits(uid) {
		return "", false
	}
	return uid, true
}

func digits(s string) bool {
	if s == "" || len(s) > 10 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
