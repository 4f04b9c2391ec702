package faults_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/localsts"
	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/socket"
)

// served is a daemon core on a fake clock with the socket API in front.
type served struct {
	env    *testenv.Env
	client *http.Client
	url    string
}

func serve(t *testing.T, o testenv.Options) *served {
	t.Helper()
	env := testenv.New(t, o, "reader")
	if errs := env.Service.Apply(context.Background(), testenv.Roles("reader")); len(errs) != 0 {
		t.Fatal(errs)
	}
	path := testenv.SocketPath(t)
	ln, err := socket.Listen(path, socket.ListenOptions{GID: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- socket.New(socket.Options{Service: env.Service}).Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return &served{env: env, client: testenv.UnixClient(path), url: "http://localhost/v1/credentials/reader"}
}

// run steps the fake clock a minute at a time for d, letting background
// renewal run and two callers ask at every step.
func (s *served) run(t *testing.T, d time.Duration, seen *tally) {
	t.Helper()
	for end := s.env.Clock.Mono() + d; s.env.Clock.Mono() < end; {
		s.env.Clock.Advance(time.Minute)
		s.env.Ref.RefreshDue(context.Background())
		for range 2 {
			check(t, s.client, s.url, s.env.Clock.Now, seen)
		}
	}
}

// recovery asks once a simulated second, from the moment STS answers
// again, until a caller is served; it returns how long that took. Only
// callers drive it: no background renewal runs meanwhile.
func (s *served) recovery(t *testing.T) time.Duration {
	t.Helper()
	start := s.env.Clock.Mono()
	for s.env.Clock.Mono()-start <= 10*time.Minute {
		var seen tally
		check(t, s.client, s.url, s.env.Clock.Now, &seen)
		if seen.get("ok") == 1 {
			return s.env.Clock.Mono() - start
		}
		s.env.Clock.Advance(time.Second)
	}
	t.Fatal("no caller served within 10 minutes of STS recovering")
	return 0
}

// TestSTSFaults keeps each STS fault up, most for longer than a refresh
// interval (tokens live 1 h and renew 34-39 min after a fetch), then lifts
// it; callers must be served again within 2 s of STS answering. The
// fault starts 25 min after the first fetch, before the first renewal, so
// the cached token has 35 min left: callers must be served for the 30 min
// until it reaches the hard minimum (5 min), and see a clear error after.
func TestSTSFaults(t *testing.T) {
	const graceful = 30 * time.Minute
	tests := []struct {
		name  string
		fault localsts.Fault
		for_  time.Duration
	}{
		{"5xx for 2h", localsts.Fault{Code: "ServiceUnavailable"}, 2 * time.Hour},
		{"resets for 2h", localsts.Fault{Reset: true}, 2 * time.Hour},
		{"malformed JSON for 2h", localsts.Fault{Malformed: true}, 2 * time.Hour},
		{"throttling for 20m", localsts.Fault{Code: "Throttling.User"}, 20 * time.Minute},
		{"throttling for 45m", localsts.Fault{Code: "Throttling.User"}, 45 * time.Minute},
		{"5xx for 29m", localsts.Fault{Code: "InternalError"}, 29 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := serve(t, testenv.Options{})
			var before, during, after tally
			s.run(t, 25*time.Minute, &before)
			calls := s.env.STS.Calls()
			s.env.STS.SetFault(tc.fault)
			s.run(t, tc.for_, &during)
			faultCalls := s.env.STS.Calls() - calls
			s.env.STS.ClearFault()
			recovered := s.recovery(t)
			s.run(t, 2*time.Hour, &after)
			t.Logf("callers served again %v after STS recovered", recovered)
			t.Logf("before: %s", &before)
			t.Logf("during (%d STS calls, all failing): %s", faultCalls, &during)
			t.Logf("after recovery: %s", &after)
			wantErrors := tc.for_ > graceful
			if got := during.get("503:" + socket.CodeUnavailable); (got > 0) != wantErrors {
				t.Errorf("callers saw %d CredentialsUnavailable errors during the fault; want errors: %v", got, wantErrors)
			}
			if wantErrors && during.get("ok") != 2*int(graceful/time.Minute)-2 {
				t.Errorf("during the fault: %s; want the cached token served until the hard minimum", &during)
			}
			if before.get("ok") != 50 {
				t.Errorf("before the fault: %s, want all ok", &before)
			}
			if n := after.get("ok"); n < 230 {
				t.Errorf("after recovery: %s, want service to resume", &after)
			}
			if wantErrors && recovered > 2*time.Second {
				t.Errorf("callers waited %v after STS recovered, want at most 2 s", recovered)
			}
			if perMin := float64(faultCalls) / tc.for_.Minutes(); perMin > 2 {
				t.Errorf("%.1f STS calls per minute during the fault; want backoff", perMin)
			}
		})
	}
}

// TestSlowSTS holds a renewal in STS, once until it is released well inside
// the AssumeRole timeout, and once until the timeout (1 s) has failed it.
// Callers never wait on a renewal: while it is held they are all answered
// from cache; a caller that waited on it would block until the test's
// deadline and fail.
func TestSlowSTS(t *testing.T) {
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		renewed bool
	}{
		{"released inside the timeout", time.Minute, true},
		{"held past the timeout", time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := serve(t, testenv.Options{Timeout: tc.timeout})
			var seen tally
			s.run(t, 20*time.Minute, &seen)
			hold := make(chan struct{})
			s.env.STS.FailNext(1, localsts.Fault{Hold: hold})
			calls, issued := s.env.STS.Calls(), s.env.STS.Successes()
			s.env.Clock.Advance(20 * time.Minute) // past the renewal point
			done := make(chan struct{})
			go func() { s.env.Ref.RefreshDue(context.Background()); close(done) }()
			waitUntil(t, "the renewal to reach STS", func() bool { return s.env.STS.Calls() > calls })
			for range 20 { // while the renewal is held
				check(t, s.client, s.url, s.env.Clock.Now, &seen)
			}
			if tc.renewed {
				close(hold)
				<-done
			} else {
				<-done // the timeout gave up on the held call
				close(hold)
			}
			if got := s.env.STS.Successes() > issued; got != tc.renewed {
				t.Errorf("renewed = %v, want %v", got, tc.renewed)
			}
			s.run(t, 20*time.Minute, &seen)
			t.Logf("slow STS: %s", &seen)
			if seen.get("ok") != seen.total() {
				t.Errorf("callers saw errors: %s", &seen)
			}
		})
	}
}

// waitUntil polls cond until it holds, failing the test after a generous
// deadline; it asserts nothing about how long that took.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestClockSteps steps the wall clock back and forth and simulates a
// suspend, with callers asking throughout.
func TestClockSteps(t *testing.T) {
	for _, step := range []time.Duration{-2 * time.Hour, 45 * time.Minute, 3 * time.Hour} {
		t.Run(step.String(), func(t *testing.T) {
			s := serve(t, testenv.Options{})
			var seen tally
			s.run(t, 10*time.Minute, &seen)
			s.env.Clock.StepWall(step)
			s.run(t, 3*time.Hour, &seen)
			t.Logf("wall clock stepped %v: %s, %d STS calls", step, &seen, s.env.STS.Calls())
			if seen.get("ok") != seen.total() {
				t.Errorf("callers saw errors: %s", &seen)
			}
		})
	}
}
