package service

import (
	"context"
	"fmt"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/peer"
	"github.com/ossd/ossd/internal/sessionname"
)

// callerSession returns the parameters and the cache key of the caller in
// ctx's own session of r, whose sessions are per caller: r's session name
// joined to the caller's uid, unit or pod ([sessionname.Name]). A caller
// who cannot be placed is refused with a *DeniedError that says why. A
// session suffix is refused: the caller would choose part of a name that
// is meant to say who it is.
func (s *Service) callerSession(ctx context.Context, r Role, suffix string) (ossd.Params, ossd.Key, error) {
	if suffix != "" {
		return ossd.Params{}, ossd.Key{}, fmt.Errorf("%w: role %q gives each caller its own session (session_per = %q) and takes no session suffix",
			ErrBadSession, r.Name, r.SessionPer)
	}
	id := peer.FromContext(ctx)
	name, err := sessionname.For(r.SessionPer, r.Params.SessionName, id)
	if err != nil {
		return ossd.Params{}, ossd.Key{}, &DeniedError{Role: r.Name, Caller: id, Reason: err.Error(), Detail: err.Error()}
	}
	p, k := r.Params, r.key
	if k == (ossd.Key{}) { // a Role that did not come through Apply
		k = p.Key()
	}
	p.SessionName, k.SessionName = name, name
	return p, k, nil
}
