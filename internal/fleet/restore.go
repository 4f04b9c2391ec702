package fleet

import (
	"github.com/ossd/ossd"
)

// keptToken is what the token store keeps of one role across a restart:
// its parameters and its token.
type keptToken struct {
	p     ossd.Params
	creds ossd.Credentials
}

// keep returns what a token store holds for d at the moment it stops:
// every role's token that has not expired.
func keep(d *daemon) []keptToken {
	now := d.clk.Now()
	var out []keptToken
	for _, e := range d.entries {
		if s := e.State(); s != nil && s.Creds().Valid(now, 0) {
			out = append(out, keptToken{p: e.Params(), creds: s.Creds()})
		}
	}
	return out
}

// restore installs kept tokens in d's new refresher before its roles
// start, through Refresher.Restore as the daemon's start-up does with its
// token store. Restore refuses what it must not install (no more than the
// floor left, and so on); those roles are fetched as after a reboot.
func (s *sim) restore(d *daemon, kept []keptToken) {
	for _, k := range kept {
		if err := d.ref.Restore(k.p, k.creds, true); err != nil {
			s.refused++
			continue
		}
		s.restored++
	}
}
