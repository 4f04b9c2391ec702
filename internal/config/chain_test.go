package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/config"
)

// TestRoleParams: a chained role's parameters carry its source role's, up
// the chain, and nothing else changes.
func TestRoleParamsChain(t *testing.T) {
	c, err := config.Parse(strings.NewReader(chain(2)))
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := c.Role("r2")
	p := c.RoleParams(r2)
	if p.RoleARN != "acs:ram::2222222222222222:role/r2" || p.Via == nil || p.Via.RoleARN != "acs:ram::2222222222222222:role/r1" ||
		p.Via.Via == nil || p.Via.Via.RoleARN != "acs:ram::1111111111111111:role/r0" || p.Via.Via.Via != nil {
		t.Fatalf("RoleParams(r2) = %+v, want r2 via r1 via r0", p)
	}
	r1, _ := c.Role("r1")
	if got, want := p.Via.Key(), c.RoleParams(r1).Key(); got != want {
		t.Errorf("r2's source key %v, want r1's own key %v: the parent's cache entry must be shared", got, want)
	}
	plain := r2.Params()
	if plain.Via != nil || plain.RoleARN != p.RoleARN || plain.Duration != p.Duration {
		t.Errorf("Params() = %+v", plain)
	}
	// A cycle in a config that never passed Validate ends.
	c.Roles = append(c.Roles, config.Role{Name: "x", SourceRole: "x"})
	depth := 0
	for q := c.RoleParams(c.Roles[len(c.Roles)-1]); q.Via != nil; q = *q.Via {
		depth++
	}
	if depth != config.MaxChain {
		t.Errorf("self-chained role: %d links, want the walk cut at %d", depth, config.MaxChain)
	}
}

// TestLoadWarnsOfShorterSource: a chained role asking for longer sessions
// than its source role's is allowed, with a warning that says what happens.
func TestLoadWarnsOfShorterSource(t *testing.T) {
	in := src + sts + role + "duration = \"40m\"\n" + chained("hub", "reader") + "duration = \"1h\"\n"
	path := filepath.Join(t.TempDir(), "ossd.toml")
	if err := os.WriteFile(path, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := `role[1] "hub" asks for 1h0m0s sessions but its source_role "reader" lasts 40m0s: its sessions will be shortened to what "reader"'s token has left`
	if len(l.Warnings) != 1 || l.Warnings[0] != want {
		t.Errorf("Warnings = %q, want [%q]", l.Warnings, want)
	}
	if d := time.Duration(l.Config.Roles[1].Duration); d != time.Hour {
		t.Errorf("duration = %v", d)
	}
}
