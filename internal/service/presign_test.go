package service_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/internal/service"
	"github.com/ossd/ossd/internal/testenv"
)

func TestPresignSlackMatchesConfig(t *testing.T) {
	if service.PresignSlack != config.PresignSlack {
		t.Errorf("service.PresignSlack = %s, config.PresignSlack = %s; config validates max_expires with it", service.PresignSlack, config.PresignSlack)
	}
}

// durations returns the DurationSeconds of every AssumeRole call so far.
func durations(t *testing.T, env *testenv.Env) []time.Duration {
	t.Helper()
	var out []time.Duration
	for _, c := range env.STS.CallLog() {
		s, err := strconv.Atoi(c.Params.Get("DurationSeconds"))
		if err != nil {
			t.Fatalf("DurationSeconds %q: %v", c.Params.Get("DurationSeconds"), err)
		}
		out = append(out, time.Duration(s)*time.Second)
	}
	return out
}

func TestCredentialsForCachedTokenSuffices(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "reader")
	ctx := context.Background()
	env.Service.Apply(ctx, testenv.Roles("reader"))
	env.Clock.Advance(40 * time.Minute) // 20 minutes left
	c, session, err := env.Service.CredentialsFor(ctx, "reader", 19*time.Minute, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if session != "ossd-reader" || env.STS.Calls() != 1 || c.Expiration.Sub(env.Clock.Now()) != 20*time.Minute {
		t.Errorf("got session %s, %d calls, %s left; want the cached token", session, env.STS.Calls(), c.Expiration.Sub(env.Clock.Now()))
	}
}

// TestCredentialsForLongerSession: a 6 h validity asked for when the cached
// 1 h token has 20 minutes left makes a session of more than 6 h.
func TestCredentialsForLongerSession(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "reader")
	ctx := context.Background()
	env.Service.Apply(ctx, testenv.Roles("reader"))
	env.Clock.Advance(40 * time.Minute)
	c, session, err := env.Service.CredentialsFor(ctx, "reader", 6*time.Hour, 12*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ds := durations(t, env)
	if len(ds) != 2 || ds[1] < 6*time.Hour+service.PresignSlack {
		t.Fatalf("AssumeRole durations = %v, want a second call of at least 6h5m", ds)
	}
	if left := c.Expiration.Sub(env.Clock.Now()); left < 6*time.Hour {
		t.Errorf("credentials have %s left, want at least 6h", left)
	}
	if !strings.HasPrefix(session, "ossd-reader-p") || config.ValidSessionName(session) != nil {
		t.Errorf("session = %q, want a valid ossd-reader-p<window>", session)
	}
	if issued := env.STS.Issued(); issued[1].SessionName != session || issued[1].AccessKeyID != c.AccessKeyID {
		t.Errorf("issued %+v, want session %s", issued[1].SessionName, session)
	}
}

func TestCredentialsForTooLong(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "reader")
	ctx := context.Background()
	env.Service.Apply(ctx, testenv.Roles("reader"))
	env.Clock.Advance(40 * time.Minute)
	_, _, err := env.Service.CredentialsFor(ctx, "reader", 6*time.Hour, time.Hour)
	if !errors.Is(err, service.ErrTooLong) || !strings.Contains(err.Error(), "longest possible validity is 55m0s") {
		t.Errorf("err = %v, want ErrTooLong naming 55m0s", err)
	}
	if env.STS.Calls() != 1 {
		t.Errorf("STS calls = %d, want no call for a refusal", env.STS.Calls())
	}
	// The longest possible validity is possible.
	if _, _, err := env.Service.CredentialsFor(ctx, "reader", 55*time.Minute, time.Hour); err != nil {
		t.Errorf("55m with 1h sessions: %v", err)
	}
	if ds := durations(t, env); ds[len(ds)-1] != time.Hour {
		t.Errorf("durations = %v, want a 1h session", ds)
	}
	if _, _, err := env.Service.CredentialsFor(ctx, "nobody", time.Minute, time.Hour); !errors.Is(err, ossd.ErrUnknownRole) {
		t.Errorf("unknown role: err = %v", err)
	}
}

// TestCredentialsForNeverShort asks for random validities at random times:
// every answer must last as long as asked.
func TestCredentialsForNeverShort(t *testing.T) {
	env := testenv.New(t, testenv.Options{MaxSessions: 10000}, "reader")
	ctx := context.Background()
	env.Service.Apply(ctx, testenv.Roles("reader"))
	rng := rand.New(rand.NewPCG(1, 2))
	for range 400 {
		env.Clock.Advance(time.Duration(rng.IntN(90)) * time.Second)
		want := time.Duration(1+rng.IntN(int(11*time.Hour/time.Second))) * time.Second
		maxSession := []time.Duration{time.Hour, 2 * time.Hour, 12 * time.Hour}[rng.IntN(3)]
		c, _, err := env.Service.CredentialsFor(ctx, "reader", want, maxSession)
		if errors.Is(err, service.ErrTooLong) && want > maxSession-service.PresignSlack {
			continue // unless the role's own token happens to last long enough
		}
		if err != nil {
			t.Fatalf("CredentialsFor(%s, max %s): %v", want, maxSession, err)
		}
		if left := c.Expiration.Sub(env.Clock.Now()); left < want {
			t.Fatalf("asked for %s, got credentials with %s left", want, left)
		}
	}
	for _, d := range durations(t, env) {
		if d > 12*time.Hour || d%time.Second != 0 {
			t.Errorf("asked STS for a %s session", d)
		}
	}
}

// TestCredentialsForShares: similar validities asked for within one window
// share one session; the next window gets a fresh one.
func TestCredentialsForShares(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "reader")
	ctx := context.Background()
	env.Service.Apply(ctx, testenv.Roles("reader"))
	env.Clock.Advance(20*time.Minute - time.Duration(env.Clock.Now().Unix()%300)*time.Second) // start of a window
	for i := range 20 {
		want := []time.Duration{6 * time.Hour, 5*time.Hour + 30*time.Minute, 5*time.Hour + time.Second}[i%3]
		if _, _, err := env.Service.CredentialsFor(ctx, "reader", want, 12*time.Hour); err != nil {
			t.Fatal(err)
		}
		env.Clock.Advance(10 * time.Second)
	}
	if ds := long(t, env); len(ds) != 1 {
		t.Errorf("longer sessions %v, want one 6h5m session", ds)
	}
	env.Clock.Advance(service.PresignSlack)
	if _, _, err := env.Service.CredentialsFor(ctx, "reader", 6*time.Hour, 12*time.Hour); err != nil {
		t.Fatal(err)
	}
	if ds := long(t, env); len(ds) != 2 || ds[0] != 6*time.Hour+service.PresignSlack || ds[1] != ds[0] {
		t.Errorf("longer sessions %v, want [6h5m 6h5m]", ds)
	}
}

// long returns the durations of the sessions other than the role's own.
func long(t *testing.T, env *testenv.Env) []time.Duration {
	var out []time.Duration
	for _, d := range durations(t, env) {
		if d != time.Hour {
			out = append(out, d)
		}
	}
	return out
}

func TestWindowSessionFitsSTS(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "reader")
	ctx := context.Background()
	roles := testenv.Roles("reader")
	roles[0].Params.SessionName = strings.Repeat("s", 64)
	env.Service.Apply(ctx, roles)
	_, session, err := env.Service.CredentialsFor(ctx, "reader", 2*time.Hour, 12*time.Hour)
	if err != nil || len(session) != 64 || config.ValidSessionName(session) != nil {
		t.Errorf("session %q (%d chars), err %v; want a valid 64-character name", session, len(session), err)
	}
}
