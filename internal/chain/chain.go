package chain

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/clock"
)

// MinDuration is the shortest session STS issues.
const MinDuration = 15 * time.Minute

// Signer calls AssumeRole: Fetch signed with the source credential,
// FetchWith signed with the STS credentials by. *sts.Client is one.
type Signer interface {
	ossd.Fetcher
	FetchWith(ctx context.Context, by ossd.Credentials, p ossd.Params) (ossd.Credentials, error)
}

// Source hands out a role's current credentials, with the floor and hard
// minimum applied. *refresher.Refresher is one.
type Source interface {
	Get(ctx context.Context, p ossd.Params) (ossd.Credentials, error)
}

// Fetcher fetches credentials for plain and chained roles; see the package
// documentation.
type Fetcher struct {
	signer Signer
	clock  clock.Clock
	log    *slog.Logger
	source atomic.Pointer[bound] // set by Bind
}

type bound struct{ Source }

// New returns a Fetcher that calls STS through s. clk nil is the real
// clock, log nil discards.
func New(s Signer, clk clock.Clock, log *slog.Logger) *Fetcher {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Fetcher{signer: s, clock: clock.Or(clk), log: log.With("component", "chain")}
}

// Bind makes src the source of parent credentials.
func (f *Fetcher) Bind(src Source) { f.source.Store(&bound{src}) }

// Fetch assumes p: with the source credential, or, when p.Via is set, with
// the credentials of the role p.Via.
func (f *Fetcher) Fetch(ctx context.Context, p ossd.Params) (ossd.Credentials, error) {
	if p.Via == nil {
		return f.signer.Fetch(ctx, p)
	}
	src := f.source.Load()
	if src == nil {
		return ossd.Credentials{}, &ossd.STSError{Code: "ossd.NoSourceRole", Message: "role chaining is not wired: no source of parent credentials"}
	}
	parent, err := src.Get(ctx, *p.Via)
	if err != nil {
		return ossd.Credentials{}, fmt.Errorf("source role %s: %w", p.Via.RoleARN, err)
	}
	d, err := f.duration(p, parent)
	if err != nil {
		return ossd.Credentials{}, err
	}
	p.Duration = d
	return f.signer.FetchWith(ctx, parent, p)
}

// duration returns how long a session of p signed by parent may last: what
// p asks for, or what parent has left if that is less, in whole seconds and
// never under MinDuration.
func (f *Fetcher) duration(p ossd.Params, parent ossd.Credentials) (time.Duration, error) {
	left := parent.Expiration.Sub(f.clock.Now()).Truncate(time.Second)
	switch {
	case left >= p.Duration:
		return p.Duration, nil
	case left < MinDuration:
		return 0, &ossd.STSError{Code: "ossd.SourceRoleExpiring", Message: fmt.Sprintf(
			"source role %s has %s left on its token, less than the %s a chained session needs; retrying after it renews",
			p.Via.RoleARN, max(left, 0), MinDuration)}
	}
	f.log.Info("chained session shortened to what its source role's token has left",
		"role", p.RoleARN, "session", p.SessionName, "source_role", p.Via.RoleARN,
		"requested", p.Duration.String(), "granted", left.String())
	return left, nil
}
