package config

import (
	"io/fs"
	"log/slog"
	"reflect"
	"slices"
	"time"

	"github.com/ossd/ossd"
)

// Source types: where the daemon's own credentials come from.
const (
	SourceAccessKey  = "access_key"   // a RAM user's AccessKey pair
	SourceECSRAMRole = "ecs_ram_role" // the ECS instance's RAM role, from the metadata service
	SourceOIDC       = "oidc"         // ACK RRSA: an OIDC token exchanged for the role
	SourceDefault    = "default"      // the SDK's default credential chain
)

// Defaults applied by [Default] and [Parse].
const (
	DefaultTimeout     = 5 * time.Second
	DefaultMaxQPS      = 20
	DefaultFloor       = 16 * time.Minute
	DefaultHardMinimum = 5 * time.Minute
	// DefaultOutageMargin and DefaultSpread are the refresher's own.
	DefaultOutageMargin = 5 * time.Minute
	DefaultSpread       = 5 * time.Minute
	// DefaultStartSpread fetches every role at once at start: a fleet
	// simulation shows no gain in readiness from spreading (callers' demand
	// comes first anyway, and a throttling answer pauses each daemon after
	// one call), while one host would wait for roles nobody asked for yet
	// (docs/fleet.md).
	DefaultStartSpread = 0
	DefaultSocketMode  = "0600"
	DefaultMaxSessions = 10000
	DefaultRatePerUID  = 1000 // requests per second; equal to ratelimit.DefaultRate
	DefaultBurstPerUID = 2000 // equal to ratelimit.DefaultBurst
	DefaultLogLevel    = "info"
	DefaultLogFormat   = "text"
	DefaultDuration    = time.Hour
)

// Config is the daemon's configuration, decoded from TOML by [Parse] or
// [Load]. A Config is a plain value: nothing in it is safe for concurrent
// mutation, and the daemon swaps whole configs on reload.
type Config struct {
	Source  Source  `toml:"source"`
	STS     STS     `toml:"sts"`
	Refresh Refresh `toml:"refresh"`
	Server  Server  `toml:"server"`
	Log     Log     `toml:"log"`
	Roles   []Role  `toml:"role"`

	// Front ends and auditing; each is defined and validated in its own file.
	Metadata []Metadata `toml:"metadata,omitempty"` // metadata.go
	URI      URI        `toml:"uri"`                // metadata.go
	Audit    Audit      `toml:"audit"`              // audit.go
	Metrics  Metrics    `toml:"metrics"`            // metrics.go
}

// Source says where the daemon's own credentials, the ones it calls
// AssumeRole with, come from. Only the fields of its Type may be set.
type Source struct {
	Type string `toml:"type"` // one of the Source* constants; required

	// access_key: each of id and secret comes from its file, else the inline
	// value, else the environment; see [Source.AccessKey].
	AccessKeyIDFile     string      `toml:"access_key_id_file"`
	AccessKeySecretFile string      `toml:"access_key_secret_file"`
	AccessKeyID         string      `toml:"access_key_id"`
	AccessKeySecret     ossd.Secret `toml:"access_key_secret"` // discouraged; Load warns if the file is readable by others

	RoleName string `toml:"role_name"` // ecs_ram_role; empty means discover it

	// oidc: empty fields default to the environment; see [Source.Resolve].
	OIDCProviderARN string `toml:"oidc_provider_arn"`
	OIDCRoleARN     string `toml:"oidc_role_arn"`
	OIDCTokenFile   string `toml:"oidc_token_file"`
}

// STS configures the AssumeRole client.
type STS struct {
	Region   string   `toml:"region"`   // required, e.g. cn-hangzhou
	Endpoint string   `toml:"endpoint"` // http(s)://host[:port]; Parse fills the regional default
	Timeout  Duration `toml:"timeout"`  // per AssumeRole call, 1s..60s
	MaxQPS   float64  `toml:"max_qps"`  // AssumeRole calls per second, all roles; (0, 100]
}

// EndpointURL returns Endpoint, or the regional default
// https://sts.<region>.aliyuncs.com when Endpoint is empty.
func (s STS) EndpointURL() string {
	if s.Endpoint != "" {
		return s.Endpoint
	}
	return defaultEndpoint(s.Region)
}

func defaultEndpoint(region string) string { return "https://sts." + region + ".aliyuncs.com" }

// Refresh bounds how little lifetime a handed-out credential may have, and
// says when tokens are renewed.
type Refresh struct {
	// Floor: never hand out credentials with this little left.
	Floor Duration `toml:"floor"`
	// HardMinimum: while refresh fails, keep serving the cached token down
	// to this. More than 180 s (SPEC §5) and less than Floor.
	HardMinimum Duration `toml:"hard_minimum"`
	// OutageMargin: renew at the latest when a token has Floor plus this
	// left (or at half its life, if later), so that an STS outage this long
	// costs callers nothing. Less means fewer AssumeRole calls; 0 renews
	// just before the floor.
	OutageMargin Duration `toml:"outage_margin"`
	// Spread: each renewal is placed at random within this window before
	// its renewal point, so tokens fetched together do not renew together.
	Spread Duration `toml:"spread"`
	// StartSpread: a start places the first fetch of each role that has no
	// kept token at random within this window; a role a caller asks for is
	// fetched at once. 0 fetches them all at once.
	StartSpread Duration `toml:"start_spread"`
}

// Server configures the unix-socket listener, and the per-caller rate
// limit of every listener.
type Server struct {
	Socket      string `toml:"socket"`       // absolute path; empty means cmd picks the default
	SocketMode  string `toml:"socket_mode"`  // octal, e.g. "0600"; never writable by others
	SocketGroup string `toml:"socket_group"` // group name or numeric gid; optional
	MaxSessions int    `toml:"max_sessions"` // bound of the on-demand session LRU, 1..1000000
	// RatePerUID and BurstPerUID limit each caller uid's requests, on all
	// listeners together: a token bucket of BurstPerUID refilled at
	// RatePerUID a second. (0, 1000000] and 1..1000000.
	RatePerUID  float64 `toml:"rate_per_uid"`
	BurstPerUID int     `toml:"burst_per_uid"`
}

// FileMode returns SocketMode as a file mode. A mode that does not parse
// (which Validate rejects) yields 0600, the safe default.
func (s Server) FileMode() fs.FileMode {
	m, err := parseMode(s.SocketMode)
	if err != nil {
		return 0o600
	}
	return m
}

// Log configures the daemon's logger.
type Log struct {
	Level  string `toml:"level"`  // debug | info | warn | error
	Format string `toml:"format"` // text | json
}

// SlogLevel returns Level as a [slog.Level]; anything unknown is Info.
func (l Log) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// Role is one role callers may ask for by Name. [Diff] compares Role values
// with reflect.DeepEqual: the presign and allow lists make them not
// comparable.
type Role struct {
	Name        string   `toml:"name"`         // 1-64 of [A-Za-z0-9_.-], unique
	ARN         string   `toml:"arn"`          // acs:ram::<account-id>:role/<name>
	SessionName string   `toml:"session_name"` // 2-64 of [A-Za-z0-9.@_-]; default "ossd-<name>"
	Duration    Duration `toml:"duration"`     // 15m..12h, whole seconds; default 1h
	Policy      string   `toml:"policy"`       // inline JSON policy, compacted by Parse
	PolicyFile  string   `toml:"policy_file"`  // read into Policy by Load
	ExternalID  string   `toml:"external_id"`  // 2-1224 bytes when set
	SessionPer  string   `toml:"session_per"`  // "role" (default) | "uid" | "unit" | "pod": whose session a caller gets
	SourceRole  string   `toml:"source_role"`  // role whose credentials assume this one (chain.go); "" = the source credential
	Presign     Presign  `toml:"presign"`      // presign.go
	Allow       Allow    `toml:"allow"`        // allow.go

	// policyFromFile reports that Load read PolicyFile into Policy, so both
	// being set is not a conflict.
	policyFromFile bool
}

// Params returns the AssumeRole parameters of r, without the role it is
// chained to (its source_role): [Config.RoleParams] fills that in.
//
// A policy_file is read only by [Load]: for a Config from [Parse] alone,
// Policy is empty even when PolicyFile is set.
func (r Role) Params() ossd.Params {
	return ossd.Params{
		RoleARN:     r.ARN,
		SessionName: r.SessionName,
		Policy:      r.Policy,
		Duration:    time.Duration(r.Duration),
		ExternalID:  r.ExternalID,
	}
}

// Default returns a Config holding every default and no roles; it does not
// pass Validate until the caller sets a source type, a region and a role.
// The dev mode of cmd builds its Config from it.
func Default() *Config {
	return &Config{
		STS: STS{Timeout: Duration(DefaultTimeout), MaxQPS: DefaultMaxQPS},
		Refresh: Refresh{Floor: Duration(DefaultFloor), HardMinimum: Duration(DefaultHardMinimum),
			OutageMargin: Duration(DefaultOutageMargin), Spread: Duration(DefaultSpread), StartSpread: Duration(DefaultStartSpread)},
		Server: Server{SocketMode: DefaultSocketMode, MaxSessions: DefaultMaxSessions,
			RatePerUID: DefaultRatePerUID, BurstPerUID: DefaultBurstPerUID},
		Audit: Audit{Required: true},
		Log:   Log{Level: DefaultLogLevel, Format: DefaultLogFormat},
	}
}

// Role returns the role called name and reports whether there is one.
func (c *Config) Role(name string) (Role, bool) {
	for _, r := range c.Roles {
		if r.Name == name {
			return r, true
		}
	}
	return Role{}, false
}

// RoleNames returns the names of c's roles, sorted.
func (c *Config) RoleNames() []string {
	names := make([]string, 0, len(c.Roles))
	for _, r := range c.Roles {
		names = append(names, r.Name)
	}
	slices.Sort(names)
	return names
}

// Diff reports, by name and sorted, which roles next adds to old, which it
// removes, and which it keeps but changes (any field, the policy text
// included). Either config may be nil. Settings outside [[role]] are not
// compared.
func Diff(old, next *Config) (added, removed, changed []string) {
	prev, cur := rolesByName(old), rolesByName(next)
	for name, r := range cur {
		if p, ok := prev[name]; !ok {
			added = append(added, name)
		} else if !reflect.DeepEqual(p, r) {
			changed = append(changed, name)
		}
	}
	for name := range prev {
		if _, ok := cur[name]; !ok {
			removed = append(removed, name)
		}
	}
	slices.Sort(added)
	slices.Sort(removed)
	slices.Sort(changed)
	return added, removed, changed
}

func rolesByName(c *Config) map[string]Role {
	if c == nil {
		return nil
	}
	m := make(map[string]Role, len(c.Roles))
	for _, r := range c.Roles {
		m[r.Name] = r
	}
	return m
}
