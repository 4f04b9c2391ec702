// Package access decides which local callers may have which role. Rules
// come from a role's [role.allow] config, compiled once (user and group
// names resolved to ids) and then checked per request against the caller's
// [peer.Identity].
//
// An exe setting is matched by the identity of the file, not by its name:
// the running executable (device and inode, [peer.Identity.ExeFile]) must
// be the file that the configured path names in ossd's own mount
// namespace, stat(2)ed at each check, so that a bind mount or a rename in
// another namespace proves nothing. A literal path matches the file it
// resolves to (through symlinks); a pattern must match the executable's
// path and the file at that path must be the running executable. exe and
// cgroups settings refuse callers in another mount or user namespace than
// ossd's unless the rule sets foreign_namespaces.
//
// A Rule is immutable and safe for concurrent use.
package access

import (
	"fmt"
	"os/user"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/internal/peer"
)

// Rule is a compiled allow list. The zero Rule allows everyone.
type Rule struct {
	uids, gids []uint32
	exes       []string
	cgroups    []string
	foreign    bool // exes and cgroups may match callers in other namespaces
	set        bool
}

// Lookup resolves user and group names; os/user in production.
type Lookup struct {
	User  func(name string) (uint32, error)
	Group func(name string) (uint32, error)
}

// System resolves names with os/user.
func System() Lookup {
	return Lookup{
		User: func(n string) (uint32, error) {
			u, err := user.Lookup(n)
			if err != nil {
				return 0, err
			}
			id, err := strconv.ParseUint(u.Uid, 10, 32)
			return uint32(id), err
		},
		Group: func(n string) (uint32, error) {
			g, err := user.LookupGroup(n)
			if err != nil {
				return 0, err
			}
			id, err := strconv.ParseUint(g.Gid, 10, 32)
			return uint32(id), err
		},
	}
}

// Compile resolves a into a Rule. An unknown user or group is an error:
// a rule that silently matches nobody would look like an outage.
func Compile(a config.Allow, l Lookup) (Rule, error) {
	r := Rule{uids: slices.Clone(a.UIDs), gids: slices.Clone(a.GIDs), exes: a.Exe, cgroups: a.Cgroups, foreign: a.ForeignNamespaces, set: !a.Empty()}
	for _, n := range a.Users {
		id, err := l.User(n)
		if err != nil {
			return Rule{}, fmt.Errorf("allow.users: unknown user %q", n)
		}
		r.uids = append(r.uids, id)
	}
	for _, n := range a.Groups {
		id, err := l.Group(n)
		if err != nil {
			return Rule{}, fmt.Errorf("allow.groups: unknown group %q", n)
		}
		r.gids = append(r.gids, id)
	}
	return r, nil
}

// Open reports whether the rule lets anyone in.
func (r Rule) Open() bool { return !r.set }

// Check reports whether id may have the role, and if not, which setting
// refused it (for the audit log; callers are told less).
func (r Rule) Check(id peer.Identity) (ok bool, reason string) {
	switch {
	case !r.set:
		return true, ""
	case !id.Known:
		return false, "caller not identified"
	case len(r.uids) > 0 && !slices.Contains(r.uids, id.UID):
		return false, fmt.Sprintf("uid %d not in allow.users/uids", id.UID)
	case len(r.gids) > 0 && !inGroups(r.gids, id):
		return false, fmt.Sprintf("gid %d and groups %v not in allow.groups/gids", id.GID, id.Groups)
	case len(r.exes)+len(r.cgroups) > 0 && !r.foreign && id.NS != peer.NSOwn:
		return false, foreignReason(id)
	case len(r.exes) > 0:
		if ok, why := matchExe(r.exes, id); !ok {
			return false, why
		}
	}
	if len(r.cgroups) > 0 && !matchAny(r.cgroups, id.Cgroup) {
		return false, fmt.Sprintf("cgroup %q not in allow.cgroups", id.Cgroup)
	}
	return true, ""
}

func foreignReason(id peer.Identity) string {
	if id.NS == "" {
		return "caller's namespaces unknown; allow.exe and allow.cgroups need them to be ossd's (allow.foreign_namespaces is not set)"
	}
	return fmt.Sprintf("caller in another %s namespace than ossd's; allow.exe and allow.cgroups refuse it (allow.foreign_namespaces is not set)", id.NS)
}

// matchExe reports whether the running executable is one of the files
// patterns name in ossd's mount namespace, and if not, why.
func matchExe(patterns []string, id peer.Identity) (bool, string) {
	if id.ExeFile.IsZero() {
		return false, fmt.Sprintf("executable %q unknown (file not readable) for allow.exe", id.Exe)
	}
	named := false
	for _, p := range patterns {
		path := p
		named = named || p == id.Exe
		if isPattern(p) {
			if !matchAny([]string{p}, id.Exe) {
				continue
			}
			named, path = true, id.Exe
		}
		if f, err := peer.FileOf(path); err == nil && f == id.ExeFile {
			return true, ""
		}
	}
	if named {
		return false, fmt.Sprintf("executable %q (file %s) matches allow.exe by name, but is not the file at that path", id.Exe, id.ExeFile)
	}
	return false, fmt.Sprintf("executable %q (file %s) not in allow.exe", id.Exe, id.ExeFile)
}

// isPattern reports whether an allow.exe entry is a pattern rather than a
// literal path.
func isPattern(p string) bool { return strings.ContainsAny(p, `*?[\`) }

func inGroups(gids []uint32, id peer.Identity) bool {
	if slices.Contains(gids, id.GID) {
		return true
	}
	for _, g := range id.Groups {
		if slices.Contains(gids, g) {
			return true
		}
	}
	return false
}

// matchAny matches s against shell patterns; a pattern ending in "/**"
// also matches everything below its directory. An empty s (unknown exe or
// cgroup) matches nothing.
func matchAny(patterns []string, s string) bool {
	if s == "" {
		return false
	}
	for _, p := range patterns {
		if base, ok := strings.CutSuffix(p, "/**"); ok {
			if s == base || strings.HasPrefix(s, base+"/") {
				return true
			}
			continue
		}
		if ok, err := path.Match(p, s); err == nil && ok {
			return true
		}
	}
	return false
}
