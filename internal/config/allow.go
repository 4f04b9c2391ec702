package config

import (
	"fmt"
	"path"
	"strings"
)

// Allow says which local callers may have a role ([role.allow]). Every
// setting that is given must match (users or uids, groups or gids, exe,
// cgroups); within one setting any entry may match. A role with no allow
// settings is open to anyone who can reach a listener serving it.
type Allow struct {
	Users   []string `toml:"users"`   // user names, resolved when the config is applied
	UIDs    []uint32 `toml:"uids"`    // numeric uids; together with users
	Groups  []string `toml:"groups"`  // group names: the caller's gid or a supplementary group
	GIDs    []uint32 `toml:"gids"`    // numeric gids; together with groups
	Exe     []string `toml:"exe"`     // absolute executable paths; shell-style patterns allowed
	Cgroups []string `toml:"cgroups"` // cgroup v2 paths; shell-style patterns, a trailing "/**" matches a subtree
	// ForeignNamespaces lets exe and cgroups match callers in a mount or
	// user namespace other than ossd's; by default such callers are refused
	// a role with either setting.
	ForeignNamespaces bool `toml:"foreign_namespaces"`
}

// Empty reports whether a has no settings (the role is open).
// ForeignNamespaces alone is no setting: it only qualifies exe and cgroups.
func (a Allow) Empty() bool {
	return len(a.Users)+len(a.UIDs)+len(a.Groups)+len(a.GIDs)+len(a.Exe)+len(a.Cgroups) == 0
}

func (a Allow) validate(p *problems, prefix string) {
	if a.ForeignNamespaces && len(a.Exe)+len(a.Cgroups) == 0 {
		p.addf(prefix+".foreign_namespaces", "applies only to exe and cgroups, and neither is set")
	}
	for i, u := range a.Users {
		if u == "" || strings.ContainsAny(u, ":/ \t\n") {
			p.addf(fmt.Sprintf("%s.users[%d]", prefix, i), "malformed user name %s", quote(u))
		}
	}
	for i, g := range a.Groups {
		if g == "" || strings.ContainsAny(g, ":/ \t\n") {
			p.addf(fmt.Sprintf("%s.groups[%d]", prefix, i), "malformed group name %s", quote(g))
		}
	}
	for i, e := range a.Exe {
		if !strings.HasPrefix(e, "/") {
			p.addf(fmt.Sprintf("%s.exe[%d]", prefix, i), "%s is not an absolute path", quote(e))
		} else if _, err := path.Match(e, "/"); err != nil {
			p.addf(fmt.Sprintf("%s.exe[%d]", prefix, i), "bad pattern %s: %v", quote(e), err)
		}
	}
	for i, c := range a.Cgroups {
		if !strings.HasPrefix(c, "/") {
			p.addf(fmt.Sprintf("%s.cgroups[%d]", prefix, i), "%s is not an absolute cgroup path", quote(c))
		} else if _, err := path.Match(strings.TrimSuffix(c, "/**"), "/"); err != nil {
			p.addf(fmt.Sprintf("%s.cgroups[%d]", prefix, i), "bad pattern %s: %v", quote(c), err)
		}
	}
}
