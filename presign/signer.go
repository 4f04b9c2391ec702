package presign

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/audit"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/internal/peer"
	"github.com/ossd/ossd/internal/refusal"
)

// Credentials hands out a role's credentials that stay valid for at least
// minValidity, from sessions of at most maxSession, with the name of their
// STS session, to callers who may have the role. *service.Service
// implements it.
type Credentials interface {
	// CheckAccess reports whether the caller in ctx may have the role.
	CheckAccess(ctx context.Context, role string) error
	CredentialsFor(ctx context.Context, role string, minValidity, maxSession time.Duration) (ossd.Credentials, string, error)
}

// Options configure a Signer. Credentials, Roles and Audit are required.
type Options struct {
	Credentials Credentials
	// Roles returns the configured role called name, if any; its presign
	// policy is read on every request, so a reload takes effect at once.
	Roles func(name string) (config.Role, bool)
	Audit *audit.Logger
	// Refusals groups repeated refusals before they reach Audit (see
	// package refusal); nil writes every refusal in full.
	Refusals *refusal.Recorder
	Clock    clock.Clock  // nil = real
	Log      *slog.Logger // nil = discard
}

// Signer signs URLs for callers.
type Signer struct {
	creds    Credentials
	roles    func(string) (config.Role, bool)
	audit    *audit.Logger
	refusals *refusal.Recorder
	clock    clock.Clock
	log      *slog.Logger
}

// New returns a Signer.
func New(o Options) *Signer {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Signer{creds: o.Credentials, roles: o.Roles, audit: o.Audit, refusals: o.Refusals, clock: clock.Or(o.Clock), log: log.With("component", "presign")}
}

// Presign checks r for the caller, signs it, and audits the outcome. A URL
// is returned only once its audit line is written ([audit.Logger.Gate], as
// for credentials); a refusal is audited through the refusal recorder,
// which groups repeats. Every error is an *[Error].
func (s *Signer) Presign(ctx context.Context, r *Request) (Result, error) {
	id := peer.FromContext(ctx)
	ev := audit.Event{Kind: audit.KindPresign, Role: r.Role, Caller: id, Path: id.Via, Method: r.Method, Bucket: r.Bucket, Key: r.Key}
	res, err := s.presign(ctx, r, &ev)
	if err != nil {
		e := classify(err)
		ev.Result = e.Code
		s.auditRefusal(ev)
		return Result{}, e
	}
	ev.Result, ev.Expiry = audit.ResultOK, res.Expiration
	if err := s.audit.Gate(ev); err != nil {
		return Result{}, classify(err)
	}
	return res, nil
}

// auditRefusal writes the audit line of a refusal.
func (s *Signer) auditRefusal(ev audit.Event) {
	if s.refusals != nil {
		s.refusals.Audit(ev)
		return
	}
	s.audit.Log(ev) // a failure is counted in the Logger's State; nothing was handed out
}

func (s *Signer) presign(ctx context.Context, r *Request, ev *audit.Event) (Result, error) {
	// Access first: a caller who may not have the role learns nothing about
	// it, not even whether it exists.
	if err := s.creds.CheckAccess(ctx, r.Role); err != nil {
		return Result{}, err
	}
	role, ok := s.roles(r.Role)
	if !ok {
		return Result{}, &Error{http.StatusNotFound, CodeUnknownRole, "unknown role " + quote(r.Role)}
	}
	p, ok := role.PresignPolicy()
	if !ok {
		return Result{}, forbidden(CodeNotAllowed, "role %s may not sign URLs: its config has no [role.presign] buckets", quote(r.Role))
	}
	in, err := Prepare(r, p)
	if in != nil {
		ev.Method, ev.Expires = in.Method, in.Expires
	}
	if err != nil {
		return Result{}, err
	}
	// The signing time is taken before the token: the token is then sure to
	// outlive signTime + Expires, however long fetching it takes.
	signTime := s.clock.Now().Truncate(time.Second)
	c, session, err := s.creds.CredentialsFor(ctx, r.Role, in.Expires, time.Duration(p.MaxSessionDuration))
	if err != nil {
		s.log.Warn("no credentials to sign with", "role", r.Role, "code", ossd.ErrorCode(err), "err", err)
		return Result{}, err
	}
	ev.Session, ev.AccessKeyID = session, c.AccessKeyID
	if now := s.clock.Now().Truncate(time.Second); !c.Expiration.Before(now.Add(in.Expires)) {
		signTime = now // the fresher time still fits
	}
	if c.Expiration.Before(signTime.Add(in.Expires)) {
		return Result{}, &Error{http.StatusServiceUnavailable, CodeUnavailable, "the token expires before the URL would; try again"}
	}
	return Sign(in, c, signTime)
}
