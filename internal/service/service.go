// Package service joins the role table (names callers ask for) to the
// refresher (tokens by key). Every front end, the Unix socket API, the
// metadata listeners and the credential helper, asks a Service.
//
// A Service is safe for concurrent use; the role table is replaced
// atomically by Apply.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/cache"
	"github.com/ossd/ossd/internal/access"
	"github.com/ossd/ossd/internal/audit"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/peer"
	"github.com/ossd/ossd/internal/refusal"
	"github.com/ossd/ossd/internal/sessionname"
	"github.com/ossd/ossd/refresher"
)

// ErrBadSession is returned for a session suffix that STS would refuse.
var ErrBadSession = errors.New("invalid session name")

// Role is a configured role: the name callers ask for, the AssumeRole
// parameters behind it, and who may have it.
type Role struct {
	Name   string
	Params ossd.Params
	Allow  access.Rule // the zero Rule lets anyone in
	// SessionPer gives each caller a session of its own (percaller.go);
	// "" or sessionname.PerRole share Params' session.
	SessionPer sessionname.Per

	key ossd.Key // Params.Key(), computed once by Apply: it hashes the policy
}

type table struct {
	byName  map[string]Role
	byKey   map[ossd.Key]string
	names   []string // sorted
	guarded bool     // some role has rules: hide which roles exist
}

// Service answers credential requests by role name.
type Service struct {
	ref     *refresher.Refresher
	cache   *cache.Cache
	clock   clock.Clock
	log     *slog.Logger
	roles   atomic.Pointer[table]
	audit   *audit.Logger     // nil: no audit log
	deny    *refusal.Recorder // groups the denials written to audit
	hardMin time.Duration     // see SetHardMinimum
	// issued remembers audited issuances, so that a token handed again to
	// the same process over the same listener is not audited again. It is
	// read on every request, so hits take no lock; it is emptied when it
	// reaches maxIssuances, which at worst audits some issuances twice.
	issued  sync.Map // issuance -> struct{}
	issuedN atomic.Int64
}

// issuance identifies one token given to one process.
type issuance struct {
	uid, gid    uint32
	pid         int32
	via         string
	role        string
	session     string
	accessKeyID string
}

// maxIssuances bounds the memory of which issuances were audited.
const maxIssuances = 4096

// SetHardMinimum tells s the refresher's hard minimum, below which a
// cached token is not served: Status reports such a role as failing. Call
// it before serving; without it only an expired token counts as failing.
func (s *Service) SetHardMinimum(d time.Duration) { s.hardMin = d }

// SetAudit makes s record issuances in l, each written before its
// credentials are returned ([audit.Logger.Gate]), and denials through rec,
// which groups their repeats into l. Call it before serving.
func (s *Service) SetAudit(l *audit.Logger, rec *refusal.Recorder) { s.audit, s.deny = l, rec }

// AuditState reports whether the audit log is being written: "ok",
// "failing", or "" without an audit log.
func (s *Service) AuditState() string {
	if s.audit == nil {
		return ""
	}
	return s.audit.State().String()
}

// audited reports whether k has been audited already.
func (s *Service) audited(k issuance) bool {
	_, seen := s.issued.Load(k)
	return seen
}

// markAudited remembers that k has been audited.
func (s *Service) markAudited(k issuance) {
	// A copy of the key id: the daemon's may share its allocation with the
	// token (internal/sts), which a remembered issuance would keep alive.
	k.accessKeyID = strings.Clone(k.accessKeyID)
	if _, seen := s.issued.LoadOrStore(k, struct{}{}); seen {
		return
	}
	if s.issuedN.Add(1) > maxIssuances {
		s.issued.Clear()
		s.issuedN.Store(0)
	}
}

// New returns a Service with no roles; call Apply.
func New(ref *refresher.Refresher, c *cache.Cache, clk clock.Clock, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{ref: ref, cache: c, clock: clock.Or(clk), log: log}
	s.roles.Store(&table{byName: map[string]Role{}})
	return s
}

// Install makes roles the role table without waiting for any token: new
// and changed roles are pinned, and their first fetch scheduled, before the
// table that names them is in place, so a caller who finds a role always
// finds its entry (and, if no token is there yet, fetches it at once, ahead
// of the others); removed roles are unpinned and their tokens forgotten.
// It returns the AssumeRole parameters of the pinned roles.
func (s *Service) Install(roles []Role) []ossd.Params {
	t := &table{byName: make(map[string]Role, len(roles)), byKey: make(map[ossd.Key]string, len(roles))}
	params := make([]ossd.Params, 0, len(roles))
	keep := make(map[ossd.Key]bool, len(roles))
	for _, r := range roles {
		r.key = r.Params.Key()
		t.byName[r.Name] = r
		t.byKey[r.key] = r.Name
		t.names = append(t.names, r.Name)
		t.guarded = t.guarded || !r.Allow.Open()
		if !r.SessionPer.PerCaller() {
			params = append(params, r.Params)
			keep[r.key] = true
		}
	}
	sort.Strings(t.names)
	s.ref.Start(params)
	old := s.roles.Swap(t)
	for _, r := range old.byName {
		if !keep[r.key] {
			s.ref.Forget(r.key)
		}
	}
	return params
}

// Apply is Install, then waits for the first fetch of every pinned role
// that has no token; it returns the fetch errors by role name.
func (s *Service) Apply(ctx context.Context, roles []Role) map[string]error {
	errs := s.ref.Warm(ctx, s.Install(roles))
	out := make(map[string]error)
	for _, r := range roles {
		if err := errs[r.Params.Key()]; err != nil {
			out[r.Name] = err
		}
	}
	return out
}

// Lookup returns the configured role called name.
func (s *Service) Lookup(name string) (Role, bool) {
	r, ok := s.roles.Load().byName[name]
	return r, ok
}

// NameOf returns the configured role whose session has key k, or "" for an
// on-demand session.
func (s *Service) NameOf(k ossd.Key) string { return s.roles.Load().byKey[k] }

// Names returns the configured role names, sorted.
func (s *Service) Names() []string { return s.roles.Load().names }

// NamesFor returns the roles the caller in ctx may have, sorted.
func (s *Service) NamesFor(ctx context.Context) []string {
	t := s.roles.Load()
	if !t.guarded {
		return t.names
	}
	id := peer.FromContext(ctx)
	var out []string
	for _, n := range t.names {
		if ok, _ := t.byName[n].Allow.Check(id); ok {
			out = append(out, n)
		}
	}
	return out
}

// Authorize returns the role called name if the caller in ctx (see
// [peer.NewContext]) may have it. Once any role has rules, a role that does
// not exist and a role the caller may not have are refused alike, with a
// *DeniedError, so that a caller cannot learn which roles exist.
func (s *Service) Authorize(ctx context.Context, name string) (Role, error) {
	t := s.roles.Load()
	r, ok := t.byName[name]
	if !t.guarded {
		if !ok {
			return Role{}, fmt.Errorf("%w %q", ossd.ErrUnknownRole, name)
		}
		return r, nil
	}
	id := peer.FromContext(ctx)
	reason := "no such role"
	if ok {
		var allowed bool
		if allowed, reason = r.Allow.Check(id); allowed {
			return r, nil
		}
	}
	return Role{}, &DeniedError{Role: name, Caller: id, Reason: reason}
}

// Credentials returns credentials for the role called name, if the caller
// in ctx may have it. A non-empty session suffix asks for a separate
// on-demand session whose name is the role's session name, "-", and the
// suffix. A role whose sessions are per caller gives the caller its own
// session instead, and refuses a suffix (percaller.go).
//
// Credentials are returned only once their issuance is in the audit log:
// when the line cannot be written, the error wraps [audit.ErrFailed] and
// no credentials are returned (unless the audit policy is Optional).
func (s *Service) Credentials(ctx context.Context, name, session string) (ossd.Credentials, error) {
	c, sessionName, err := s.credentials(ctx, name, session)
	if aerr := s.record(ctx, name, session, sessionName, c, err); aerr != nil {
		return ossd.Credentials{}, aerr
	}
	return c, err
}

// credentials also returns the RoleSessionName of the credentials.
func (s *Service) credentials(ctx context.Context, name, session string) (ossd.Credentials, string, error) {
	r, err := s.Authorize(ctx, name)
	if err != nil {
		return ossd.Credentials{}, "", err
	}
	if r.SessionPer.PerCaller() {
		p, k, err := s.callerSession(ctx, r, session)
		if err != nil {
			return ossd.Credentials{}, "", err
		}
		c, err := s.get(ctx, p, k)
		return c, p.SessionName, err
	}
	if session == "" {
		e, ok := s.cache.Get(r.key)
		if !ok {
			// The role was removed by a reload after Authorize looked it up:
			// answer as for a role that does not exist, and leave no orphan
			// session behind by fetching it.
			return ossd.Credentials{}, "", fmt.Errorf("%w %q", ossd.ErrUnknownRole, name)
		}
		c, err := s.ref.GetEntry(ctx, e)
		return c, r.Params.SessionName, err
	}
	p := r.Params
	p.SessionName += "-" + session
	if !sessionname.Valid(p.SessionName) {
		return ossd.Credentials{}, "", fmt.Errorf("%w %q: want 2-64 characters of A-Z a-z 0-9 . @ _ -", ErrBadSession, p.SessionName)
	}
	c, err := s.ref.Get(ctx, p)
	return c, p.SessionName, err
}

// get returns credentials for p, whose key is k, from its cache entry if
// it has one: p.Key() would hash the policy on every request.
func (s *Service) get(ctx context.Context, p ossd.Params, k ossd.Key) (ossd.Credentials, error) {
	if e, ok := s.cache.Get(k); ok {
		return s.ref.GetEntry(ctx, e)
	}
	return s.ref.Get(ctx, p)
}

// RoleStatus describes one configured role, without secrets.
type RoleStatus struct {
	Name        string `json:"name"`
	RoleARN     string `json:"arn"`
	SessionName string `json:"session_name"`
	// State is "ok"; "degraded" (served, but below the floor or renewal is
	// failing); "failing" (nothing can be served: no token with more than
	// the hard minimum left); "pending" (not fetched yet); or "per-caller"
	// (each caller's session is fetched on demand).
	State       string    `json:"state"`
	SessionPer  string    `json:"session_per,omitempty"` // set for a role whose sessions are per caller
	AccessKeyID string    `json:"access_key_id,omitempty"`
	Expiration  time.Time `json:"expiration,omitzero"`
	ExpiresIn   float64   `json:"expires_in_seconds"`
	LastRefresh time.Time `json:"last_refresh,omitzero"`
	NextRefresh time.Time `json:"next_refresh,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	ErrorCode   string    `json:"last_error_code,omitempty"` // the STS error code of LastError
	Failures    int       `json:"failures"`
	Served      int64     `json:"served"`
}

// Status reports the state of every configured role.
func (s *Service) Status() []RoleStatus { return s.status(s.roles.Load().names) }

// StatusFor reports the state of the roles the caller in ctx may have.
func (s *Service) StatusFor(ctx context.Context) []RoleStatus { return s.status(s.NamesFor(ctx)) }

func (s *Service) status(names []string) []RoleStatus {
	now := s.clock.Now()
	t := s.roles.Load()
	out := make([]RoleStatus, 0, len(names))
	for _, n := range names {
		r := t.byName[n]
		st := RoleStatus{Name: n, RoleARN: r.Params.RoleARN, SessionName: r.Params.SessionName, State: "pending"}
		if r.SessionPer.PerCaller() {
			// No one session to describe: each caller's is on demand.
			st.State, st.SessionPer = "per-caller", string(r.SessionPer)
		} else if e, ok := s.cache.Get(r.key); ok {
			fillStatus(&st, e, now, s.clock.Mono(), s.ref.Floor(), s.hardMin)
		}
		out = append(out, st)
	}
	return out
}

func fillStatus(st *RoleStatus, e *cache.Entry, now time.Time, mono, floor, hardMin time.Duration) {
	st.Served = e.Served()
	cs := e.State()
	if cs == nil {
		return
	}
	st.Failures = cs.Failures
	next := cs.RefreshAt
	if cs.Err != nil {
		st.LastError, st.ErrorCode = cs.Err.Error(), ossd.ErrorCode(cs.Err)
		next = cs.RetryAt
	}
	st.NextRefresh = now.Add(next - mono).UTC().Truncate(time.Second)
	if !cs.FetchedAt().IsZero() {
		c := cs.Creds()
		st.LastRefresh = cs.FetchedAt()
		st.AccessKeyID = c.AccessKeyID
		st.Expiration = c.Expiration
		st.ExpiresIn = cs.Remaining(now, mono).Round(time.Second).Seconds()
	}
	switch left := cs.Remaining(now, mono); {
	case cs.FetchedAt().IsZero() || left <= hardMin: // the refresher hands out nothing this short
		st.State = "failing"
	case left <= floor || cs.Err != nil:
		st.State = "degraded"
	default:
		st.State = "ok"
	}
}

// record writes the audit line of one credentials request, and returns an
// error when an issuance could not be written, so that its credentials are
// withheld. An issuance is a token given to a process: the same token given
// again to the same identified process over the same listener is not a new
// one, and is not written again (clients such as the OSS v2 process
// provider ask on every request); it is remembered only once written, so an
// issuance whose line failed is tried again. A denial is written through the refusal
// recorder, which groups repeats. Other failures (unknown role without
// rules, STS trouble) are the operational log's business.
func (s *Service) record(ctx context.Context, role, session, sessionName string, c ossd.Credentials, err error) error {
	if s.audit == nil {
		return nil
	}
	id := peer.FromContext(ctx)
	ev := audit.Event{Kind: audit.KindIssue, Role: role, Session: session, SessionName: sessionName, Caller: id, Path: id.Via}
	var denied *DeniedError
	switch {
	case err == nil:
		// Unidentified callers all share one key: none stands for another.
		k := issuance{id.UID, id.GID, id.PID, id.Via, role, session, c.AccessKeyID}
		if id.Known && s.audited(k) {
			return nil
		}
		ev.AccessKeyID, ev.Expiry, ev.Result = c.AccessKeyID, c.Expiration, audit.ResultOK
		if err := s.audit.Gate(ev); err != nil {
			return fmt.Errorf("issue %s: %w", role, err)
		}
		if id.Known {
			s.markAudited(k)
		}
	case errors.As(err, &denied):
		ev.Kind, ev.Result = audit.KindDeny, "AccessDenied: "+denied.Reason
		s.deny.Audit(ev)
	}
	return nil
}
