package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/ossd/ossd/internal/sessionname"
)

// FieldError is one problem with one setting. Field is the setting's TOML
// path, with roles indexed from 0: "sts.max_qps", "role[1].arn".
type FieldError struct {
	Field string
	Err   error
}

// Error returns "<field>: <problem>".
func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }

// Unwrap returns Err.
func (e *FieldError) Unwrap() error { return e.Err }

// problems collects FieldErrors.
type problems []error

func (p *problems) add(field string, err error) {
	if err != nil {
		*p = append(*p, &FieldError{Field: field, Err: err})
	}
}

func (p *problems) addf(field, format string, args ...any) {
	p.add(field, fmt.Errorf(format, args...))
}

func (p problems) err() error { return errors.Join(p...) }

// Validate reports every problem with c at once, as an [errors.Join] of
// [*FieldError], or nil. It checks c as it is: it applies no defaults and
// does no I/O.
func (c *Config) Validate() error {
	var p problems
	c.Source.validate(&p)
	c.STS.validate(&p)
	c.Refresh.validate(&p)
	c.Server.validate(&p, c.everyRoleGuarded())
	c.Log.validate(&p)
	c.validateRoles(&p)
	c.validateRenewal(&p)
	c.validateChains(&p)
	c.validateMetadata(&p)
	c.validatePresign(&p)
	c.Audit.validate(&p)
	c.Metrics.validate(&p)
	return p.err()
}

func (s STS) validate(p *problems) {
	switch {
	case s.Region == "":
		p.addf("sts.region", "required")
	case !validRegion(s.Region):
		p.addf("sts.region", "malformed region %s: want lower-case words joined by '-', like cn-hangzhou", quote(s.Region))
	}
	if s.Endpoint != "" {
		p.add("sts.endpoint", validEndpoint(s.Endpoint))
	}
	checkDuration(p, "sts.timeout", s.Timeout, time.Second, time.Minute)
	if !(s.MaxQPS > 0 && s.MaxQPS <= MaxQPSLimit) { // written so NaN fails too
		p.addf("sts.max_qps", "%v out of range (0, %d]: STS allows 100 AssumeRole calls per second per account", s.MaxQPS, MaxQPSLimit)
	}
}

// minHardMinimum is where the Go SDKs start refetching on every call (SPEC §5).
const minHardMinimum = 180 * time.Second

func (r Refresh) validate(p *problems) {
	if r.Floor <= 0 {
		p.addf("refresh.floor", "%s must be positive", r.Floor)
	}
	if time.Duration(r.HardMinimum) <= minHardMinimum {
		p.addf("refresh.hard_minimum", "%s must be more than %s: below that, clients refetch on every call", r.HardMinimum, minHardMinimum)
	}
	if r.Floor > 0 && r.HardMinimum >= r.Floor {
		p.addf("refresh.hard_minimum", "%s must be less than refresh.floor (%s)", r.HardMinimum, r.Floor)
	}
	checkDuration(p, "refresh.outage_margin", r.OutageMargin, 0, maxRoleDuration)
	checkDuration(p, "refresh.spread", r.Spread, 0, maxSpread)
	checkDuration(p, "refresh.start_spread", r.StartSpread, 0, maxSpread)
}

// maxSpread bounds refresh.spread and refresh.start_spread: wider windows
// would leave roles unfetched, or renewed far early, for longer than any
// fleet needs to spread its calls (docs/fleet.md).
const maxSpread = time.Hour

// validateRenewal checks the [refresh] settings against the shortest role:
// its renewal point must come before the floor with the outage margin
// still ahead, and its spread must fit before that point. A role whose
// duration is itself out of bounds is reported on the role alone.
func (c *Config) validateRenewal(p *problems) {
	floor, margin := time.Duration(c.Refresh.Floor), time.Duration(c.Refresh.OutageMargin)
	var short Role
	for _, r := range c.Roles {
		if d := time.Duration(r.Duration); d >= minRoleDuration && d <= maxRoleDuration && d/2 >= floor &&
			(short.Duration == 0 || r.Duration < short.Duration) {
			short = r
		}
	}
	d := time.Duration(short.Duration)
	if d == 0 || floor <= 0 {
		return
	}
	if margin >= 0 && margin >= d-floor {
		p.addf("refresh.outage_margin", "%s plus refresh.floor (%s) must be less than the shortest role duration (%s of role %s): the token would reach the floor before its renewal",
			c.Refresh.OutageMargin, c.Refresh.Floor, short.Duration, quote(short.Name))
	}
	if spread := time.Duration(c.Refresh.Spread); spread > d/2 {
		p.addf("refresh.spread", "%s must be at most half the shortest role duration (%s of role %s): renewals are placed within it before a renewal point no earlier than half life",
			c.Refresh.Spread, short.Duration, quote(short.Name))
	}
}

// maxSocketPath leaves room for the NUL in sun_path (108 bytes on Linux).
const maxSocketPath = 107

// everyRoleGuarded reports whether every role has [role.allow] rules.
func (c *Config) everyRoleGuarded() bool {
	for _, r := range c.Roles {
		if r.Allow.Empty() {
			return false
		}
	}
	return len(c.Roles) > 0
}

// validate checks s. A socket that any local user may connect to is
// allowed only when every role says who may have it.
func (s Server) validate(p *problems, guarded bool) {
	if s.Socket != "" {
		switch {
		case !filepath.IsAbs(s.Socket):
			p.addf("server.socket", "%s must be an absolute path", quote(s.Socket))
		case len(s.Socket) > maxSocketPath || strings.ContainsRune(s.Socket, 0):
			p.addf("server.socket", "%s is not a usable unix socket path (at most %d bytes)", quote(s.Socket), maxSocketPath)
		}
	}
	if m, err := parseMode(s.SocketMode); err != nil {
		p.add("server.socket_mode", err)
	} else if m&0o002 != 0 && !guarded {
		p.addf("server.socket_mode", "%s lets any local user connect to the socket; allowed only when every role has [role.allow] rules", quote(s.SocketMode))
	}
	if s.SocketGroup != "" && !groupRe.MatchString(s.SocketGroup) {
		p.addf("server.socket_group", "malformed group %s: want a group name or a numeric gid", quote(s.SocketGroup))
	}
	if s.MaxSessions < 1 || s.MaxSessions > 1_000_000 {
		p.addf("server.max_sessions", "%d out of range 1..1000000", s.MaxSessions)
	}
	if !(s.RatePerUID > 0 && s.RatePerUID <= maxRate) { // written so NaN fails too
		p.addf("server.rate_per_uid", "%v out of range (0, 1000000] requests per second", s.RatePerUID)
	}
	if s.BurstPerUID < 1 || s.BurstPerUID > maxRate {
		p.addf("server.burst_per_uid", "%d out of range 1..1000000", s.BurstPerUID)
	}
}

// maxRate bounds the per-uid rate and burst: beyond it the limit is no
// limit, and a typo of a few zeros should be caught.
const maxRate = 1_000_000

func (l Log) validate(p *problems) {
	switch l.Level {
	case "debug", "info", "warn", "error":
	default:
		p.addf("log.level", "unknown level %s: want debug, info, warn or error", quote(l.Level))
	}
	if l.Format != "text" && l.Format != "json" {
		p.addf("log.format", "unknown format %s: want text or json", quote(l.Format))
	}
}

// Role duration bounds (SPEC §6: DurationSeconds 900..43200).
const (
	minRoleDuration = 15 * time.Minute
	maxRoleDuration = 12 * time.Hour
)

func (c *Config) validateRoles(p *problems) {
	if len(c.Roles) == 0 {
		p.addf("role", "at least one [[role]] is required")
		return
	}
	first := make(map[string]int, len(c.Roles))
	for i, r := range c.Roles {
		prefix := fmt.Sprintf("role[%d]", i)
		if j, dup := first[r.Name]; dup {
			p.addf(prefix+".name", "duplicate role name %s (also role[%d])", quote(r.Name), j)
		} else {
			first[r.Name] = i
		}
		r.validate(p, prefix, c.Refresh.Floor)
	}
}

func (r Role) validate(p *problems, prefix string, floor Duration) {
	if !nameRe.MatchString(r.Name) {
		p.addf(prefix+".name", "malformed role name %s: want 1-64 of [A-Za-z0-9_.-]", quote(r.Name))
	}
	p.add(prefix+".arn", ValidRoleARN(r.ARN))
	p.add(prefix+".session_name", ValidSessionName(r.SessionName))
	d := time.Duration(r.Duration)
	switch {
	case d < minRoleDuration || d > maxRoleDuration:
		p.add(prefix+".duration", rangeError(r.Duration, minRoleDuration, maxRoleDuration))
	case d%time.Second != 0:
		p.addf(prefix+".duration", "%s is not a whole number of seconds", r.Duration)
	case floor > 0 && d/2 < time.Duration(floor): // d < 2*floor, without overflow
		p.addf(prefix+".duration", "%s must be at least twice refresh.floor (%s)", r.Duration, floor)
	}
	if r.Policy != "" && r.PolicyFile != "" && !r.policyFromFile {
		p.addf(prefix+".policy", "set policy or policy_file, not both")
	} else if r.Policy != "" {
		p.add(prefix+".policy", ValidPolicy(r.Policy))
	}
	if r.ExternalID != "" && (len(r.ExternalID) < minExternalID || len(r.ExternalID) > maxExternalID) {
		p.addf(prefix+".external_id", "%d bytes, want %d..%d", len(r.ExternalID), minExternalID, maxExternalID)
	}
	if _, err := sessionname.ParsePer(r.SessionPer); err != nil {
		p.add(prefix+".session_per", err)
	}
	r.Allow.validate(p, prefix+".allow")
}
