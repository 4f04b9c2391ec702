// Package testenv wires the real parts of the daemon for tests: the local
// STS, the real SDK client, cache, refresher and service, all on one fake
// clock, with logs captured at debug level and checked for secrets when the
// test ends.
package testenv

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/cache"
	"github.com/ossd/ossd/internal/chain"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/localsts"
	"github.com/ossd/ossd/internal/logtest"
	"github.com/ossd/ossd/internal/service"
	"github.com/ossd/ossd/internal/sts"
	"github.com/ossd/ossd/refresher"
)

// Source credential of the local STS.
const (
	KeyID     = "LTAI5tTestSourceKey"
	KeySecret = "source-secret-for-tests-0123456789"
	Account   = "1234567890123456"
)

// Epoch is where every fake clock starts.
var Epoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// Env is a wired daemon core.
type Env struct {
	T       testing.TB
	STS     *localsts.Server
	Clock   *clock.Fake
	Cache   *cache.Cache
	Ref     *refresher.Refresher
	Service *service.Service
	Logs    *logtest.Buffer
}

// Options tune New.
type Options struct {
	Secret      string // source secret the client signs with; default KeySecret
	MaxSessions int
	Observer    refresher.Observer
	Timeout     time.Duration // per AssumeRole call; default 5s
	// STSClockAhead sets the local STS's clock this far ahead of the
	// daemon's (negative: behind): it issues Expiration and Date by it.
	STSClockAhead time.Duration
	// MaxQPS is the refresher's rate limit; default 50.
	MaxQPS float64
}

// skewed is a clock that reads d later than the clock it wraps.
type skewed struct {
	clock.Clock
	d time.Duration
}

func (s skewed) Now() time.Time { return s.Clock.Now().Add(s.d) }

// Params returns the AssumeRole parameters of the test role called name.
func Params(name string) ossd.Params {
	return ossd.Params{RoleARN: "acs:ram::" + Account + ":role/" + name, SessionName: "ossd-" + name, Duration: time.Hour}
}

// New returns an Env whose local STS knows roles. Its refresher fetches
// through a chain.Fetcher, as the daemon's does, so roles may be chained.
func New(t testing.TB, o Options, roles ...string) *Env {
	t.Helper()
	if o.Secret == "" {
		o.Secret = KeySecret
	}
	if o.MaxSessions == 0 {
		o.MaxSessions = 100
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	if o.MaxQPS == 0 {
		o.MaxQPS = 50
	}
	clk := clock.NewFake(Epoch)
	s := localsts.New(localsts.Config{Clock: skewed{clk, o.STSClockAhead}, AccountID: Account})
	s.AddAccessKey(KeyID, KeySecret)
	for _, r := range roles {
		s.AddRole(Params(r).RoleARN, 12*time.Hour)
	}
	endpoint, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	client, err := sts.New(sts.Options{
		Region: "cn-hangzhou", Endpoint: endpoint, Timeout: o.Timeout, Clock: clk,
		Source: credentials.NewStaticAKCredentialsProvider(KeyID, o.Secret),
	})
	if err != nil {
		t.Fatal(err)
	}
	log, buf := logtest.New(t)
	c := cache.New(o.MaxSessions)
	e := &Env{T: t, STS: s, Clock: clk, Cache: c, Logs: buf}
	fetcher := chain.New(client, clk, log)
	e.Ref = refresher.New(refresher.Options{Fetcher: fetcher, Cache: c, Clock: clk, Log: log, Seed: 1, MaxQPS: o.MaxQPS, Observer: o.Observer, Timeout: o.Timeout})
	fetcher.Bind(e.Ref)
	e.Service = service.New(e.Ref, c, clk, log)
	e.Service.SetHardMinimum(refresher.DefaultHardMin) // the refresher's, as serve wires it
	t.Cleanup(func() { e.CheckLogs(o.Secret) })
	return e
}

// Roles returns service roles for names.
func Roles(names ...string) []service.Role {
	out := make([]service.Role, len(names))
	for i, n := range names {
		out[i] = service.Role{Name: n, Params: Params(n)}
	}
	return out
}

// Secrets returns every secret the local STS issued, plus the source secret.
func (e *Env) Secrets() []string {
	out := []string{KeySecret}
	for _, is := range e.STS.Issued() {
		out = append(out, is.AccessKeySecret, is.SecurityToken)
	}
	return out
}

// CheckLogs fails the test if any secret reached the logs.
func (e *Env) CheckLogs(extra ...string) {
	logtest.NoSecrets(e.T, "debug log", e.Logs.String(), append(e.Secrets(), extra...)...)
}

// Get fetches p and fails the test on error.
func (e *Env) Get(p ossd.Params) ossd.Credentials {
	e.T.Helper()
	c, err := e.Ref.Get(context.Background(), p)
	if err != nil {
		e.T.Fatalf("Get(%s): %v", p.RoleARN, err)
	}
	return c
}

// SocketPath returns a fresh socket path short enough for sun_path.
func SocketPath(t testing.TB) string {
	dir, err := mkdirShort(t)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "ossd.sock")
}

// UnixClient returns an HTTP client that dials path.
func UnixClient(path string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
		MaxIdleConnsPerHost: 64,
	}}
}

// StartSTS starts a local STS on the real clock that knows the source key
// and the test roles called names, and closes it when the test ends. It is
// for tests of the real binary, which runs on the real clock.
func StartSTS(t testing.TB, names ...string) (s *localsts.Server, endpoint string) {
	t.Helper()
	s = localsts.New(localsts.Config{AccountID: Account})
	s.AddAccessKey(KeyID, KeySecret)
	for _, n := range names {
		s.AddRole(Params(n).RoleARN, 12*time.Hour)
	}
	endpoint, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, endpoint
}
