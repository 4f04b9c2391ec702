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
	"regexp"
	"sort"
	"sync/atomic"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/cache"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/refresher"
)

// ErrBadSession is returned for a session suffix that STS would refuse.
var ErrBadSession = errors.New("invalid session name")

// Role is a configured role: the name callers ask for and the AssumeRole
// parameters behind it.
type Role struct {
	Name   string
	Params ossd.Params

	key ossd.Key // Params.Key(), computed once by Apply: it hashes the policy
}

type table struct {
	byName map[string]Role
	byKey  map[ossd.Key]string
	names  []string // sorted
}

// Service answers credential requests by role name.
type Service struct {
	ref   *refresher.Refresher
	cache *cache.Cache
	clock clock.Clock
	log   *slog.Logger
	roles atomic.Pointer[table]
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

// Apply installs roles as the role table: new and changed roles are pinned
// and fetched (the returned map holds fetch errors by role name), removed
// ones are unpinned and their tokens forgotten.
func (s *Service) Apply(ctx context.Context, roles []Role) map[string]error {
	t := &table{byName: make(map[string]Role, len(roles)), byKey: make(map[ossd.Key]string, len(roles))}
	params := make([]ossd.Params, 0, len(roles))
	for _, r := range roles {
		r.key = r.Params.Key()
		t.byName[r.Name] = r
		t.byKey[r.key] = r.Name
		t.names = append(t.names, r.Name)
		params = append(params, r.Params)
	}
	sort.Strings(t.names)
	old := s.roles.Swap(t)
	keep := make(map[ossd.Key]bool, len(roles))
	for _, p := range params {
		keep[p.Key()] = true
	}
	for _, r := range old.byName {
		if k := r.Params.Key(); !keep[k] {
			s.ref.Forget(k)
		}
	}
	errs := s.ref.Warm(ctx, params)
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

// Credentials returns credentials for the role called name. A non-empty
// session suffix asks for a separate on-demand session whose name is the
// role's session name, "-", and the suffix.
func (s *Service) Credentials(ctx context.Context, name, session string) (ossd.Credentials, error) {
	r, ok := s.Lookup(name)
	if !ok {
		return ossd.Credentials{}, fmt.Errorf("%w %q", ossd.ErrUnknownRole, name)
	}
	if session == "" {
		if e, ok := s.cache.Get(r.key); ok {
			return s.ref.GetEntry(ctx, e)
		}
		return s.ref.Get(ctx, r.Params)
	}
	p := r.Params
	p.SessionName += "-" + session
	if !validSession.MatchString(p.SessionName) {
		return ossd.Credentials{}, fmt.Errorf("%w %q: want 2-64 characters of A-Z a-z 0-9 . @ _ -", ErrBadSession, p.SessionName)
	}
	return s.ref.Get(ctx, p)
}

var validSession = regexp.MustCompile(`^[A-Za-z0-9.@_-]{2,64}$`)

// RoleStatus describes one configured role, without secrets.
type RoleStatus struct {
	Name        string    `json:"name"`
	RoleARN     string    `json:"arn"`
	SessionName string    `json:"session_name"`
	State       string    `json:"state"` // "ok", "degraded", "failing", "pending"
	AccessKeyID string    `json:"access_key_id,omitempty"`
	Expiration  time.Time `json:"expiration,omitzero"`
	ExpiresIn   float64   `json:"expires_in_seconds"`
	LastRefresh time.Time `json:"last_refresh,omitzero"`
	NextRefresh time.Time `json:"next_refresh,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	Failures    int       `json:"failures"`
	Served      int64     `json:"served"`
}

// Status reports the state of every configured role.
func (s *Service) Status() []RoleStatus {
	now := s.clock.Now()
	t := s.roles.Load()
	out := make([]RoleStatus, 0, len(t.names))
	for _, n := range t.names {
		r := t.byName[n]
		st := RoleStatus{Name: n, RoleARN: r.Params.RoleARN, SessionName: r.Params.SessionName, State: "pending"}
		if e, ok := s.cache.Get(r.key); ok {
			fillStatus(&st, e, now, s.clock.Mono(), s.ref.Floor())
		}
		out = append(out, st)
	}
	return out
}

func fillStatus(st *RoleStatus, e *cache.Entry, now time.Time, mono, floor time.Duration) {
	st.Served = e.Served()
	cs := e.State()
	if cs == nil {
		return
	}
	st.Failures = cs.Failures
	next := cs.RefreshAt
	if cs.Err != nil {
		st.LastError = cs.Err.Error()
		next = cs.RetryAt
	}
	st.NextRefresh = now.Add(next - mono).UTC().Truncate(time.Second)
	if !cs.FetchedAt.IsZero() {
		st.LastRefresh = cs.FetchedAt.UTC()
		st.AccessKeyID = cs.Creds.AccessKeyID
		st.Expiration = cs.Creds.Expiration
		st.ExpiresIn = cs.Remaining(now, mono).Round(time.Second).Seconds()
	}
	switch left := cs.Remaining(now, mono); {
	case cs.FetchedAt.IsZero() || left <= 0:
		st.State = "failing"
	case left <= floor || cs.Err != nil:
		st.State = "degraded"
	default:
		st.State = "ok"
	}
}
