package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/ossd/ossd"
)

// Role chaining limits.
const (
	// MaxChain is the most source_role links from a role to the role at the
	// top of its chain, which is assumed with the source credential.
	MaxChain = 5
	// MaxChainedDuration is STS's cap on a session assumed with another
	// role's credentials.
	MaxChainedDuration = time.Hour
)

// validateChains checks every source_role: it names a role, its chain has
// no cycle and at most MaxChain links, and the chained session, whose
// duration STS caps at an hour, asks for no more.
func (c *Config) validateChains(p *problems) {
	byName := make(map[string]Role, len(c.Roles))
	for _, r := range c.Roles {
		if _, dup := byName[r.Name]; !dup { // validateRoles reports duplicates
			byName[r.Name] = r
		}
	}
	for i, r := range c.Roles {
		if r.SourceRole == "" {
			continue
		}
		prefix := fmt.Sprintf("role[%d]", i)
		p.add(prefix+".source_role", chainError(r, byName))
		if d := time.Duration(r.Duration); d > MaxChainedDuration {
			p.addf(prefix+".duration", "%s is more than %s: STS caps a session assumed with another role's credentials (source_role %s) at %s",
				r.Duration, MaxChainedDuration, quote(r.SourceRole), MaxChainedDuration)
		}
		if d := time.Duration(r.Presign.MaxSessionDuration); d > MaxChainedDuration {
			p.addf(prefix+".presign.max_session_duration", "%s is more than %s: the role is chained (source_role %s) and STS caps its sessions at %s",
				r.Presign.MaxSessionDuration, MaxChainedDuration, quote(r.SourceRole), MaxChainedDuration)
		}
	}
}

// chainError follows r's source_role links and reports a link to an
// unknown role, a cycle, or more than MaxChain links, naming the chain.
func chainError(r Role, byName map[string]Role) error {
	chain := []string{r.Name}
	seen := map[string]bool{r.Name: true}
	for cur := r; cur.SourceRole != ""; {
		chain = append(chain, cur.SourceRole)
		next, ok := byName[cur.SourceRole]
		switch {
		case !ok:
			return fmt.Errorf("unknown role %s (chain %s)", quote(cur.SourceRole), strings.Join(chain, " -> "))
		case seen[next.Name]:
			return fmt.Errorf("cycle %s", strings.Join(chain, " -> "))
		case len(chain)-1 > MaxChain:
			return fmt.Errorf("chain %s -> ... has more than %d source_role links", strings.Join(chain, " -> "), MaxChain)
		}
		seen[next.Name] = true
		cur = next
	}
	return nil
}

// RoleParams returns the AssumeRole parameters of r with Via set to those
// of its source_role, and theirs, up the chain. On a config that did not
// pass Validate, a link to an unknown role ends the chain and a cycle is
// cut after MaxChain links.
func (c *Config) RoleParams(r Role) ossd.Params {
	return c.roleParams(r, 0)
}

func (c *Config) roleParams(r Role, depth int) ossd.Params {
	p := r.Params()
	if r.SourceRole == "" || depth >= MaxChain {
		return p
	}
	if parent, ok := c.Role(r.SourceRole); ok {
		via := c.roleParams(parent, depth+1)
		p.Via = &via
	}
	return p
}

// checkChains warns about a chained role that asks for a longer session
// than its source role's: each of its sessions will be cut to what the
// source role's token has left.
func (l *Loaded) checkChains() {
	for i, r := range l.Config.Roles {
		if r.SourceRole == "" {
			continue
		}
		if parent, ok := l.Config.Role(r.SourceRole); ok && parent.Duration < r.Duration {
			l.warnf("role[%d] %s asks for %s sessions but its source_role %s lasts %s: its sessions will be shortened to what %s's token has left",
				i, quote(r.Name), r.Duration, quote(parent.Name), parent.Duration, quote(parent.Name))
		}
	}
}
