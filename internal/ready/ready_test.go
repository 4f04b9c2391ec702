package ready_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/ready"
	"github.com/ossd/ossd/internal/service"
)

func roles(states ...string) []service.RoleStatus {
	var out []service.RoleStatus
	for i := 0; i < len(states); i += 2 {
		st := service.RoleStatus{Name: states[i], State: states[i+1]}
		if st.State == "failing" {
			st.ErrorCode, st.LastError = "EntityNotExist.Role", "sts EntityNotExist.Role: no such role"
		}
		out = append(out, st)
	}
	return out
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		roles   []service.RoleStatus
		ready   bool
		failing []string
		pending []string
	}{
		{"all ok", roles("a", "ok", "b", "ok"), true, nil, nil},
		{"degraded is served", roles("a", "ok", "b", "degraded"), true, nil, nil},
		{"one failing", roles("a", "ok", "b", "failing"), false, []string{"b"}, nil},
		{"one pending", roles("a", "pending", "b", "ok"), false, nil, []string{"a"}},
		{"unknown state is not ready", roles("a", "weird"), false, []string{"a"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := ready.Check(tc.roles, nil, nil)
			var failing []string
			for _, f := range r.Failing {
				failing = append(failing, f.Name)
			}
			if r.Ready != tc.ready || strings.Join(failing, ",") != strings.Join(tc.failing, ",") || strings.Join(r.Pending, ",") != strings.Join(tc.pending, ",") {
				t.Errorf("Check = %+v, want ready %v failing %v pending %v", r, tc.ready, tc.failing, tc.pending)
			}
		})
	}
	r := ready.Check(roles("a", "failing"), nil, nil)
	if r.Failing[0].Code != "EntityNotExist.Role" || r.Failing[0].State != "failing" {
		t.Errorf("failing role = %+v, want its state and STS code", r.Failing[0])
	}
}

func TestCheckHidesOthersRoles(t *testing.T) {
	var rl ready.Reloads
	rl.Record(time.Unix(0, 0), "SIGHUP", errors.New(`role[1].name: duplicate role name "secret"`))
	visible := func(n string) bool { return n == "mine" }
	r := ready.Check(roles("mine", "ok", "secret", "failing"), visible, rl.Last())
	b, _ := json.Marshal(r)
	if r.Ready || r.Hidden != 1 || strings.Contains(string(b), "secret") || r.LastReload == nil || r.LastReload.OK {
		t.Errorf("Check for another caller = %s", b)
	}
	if r := ready.Check(roles("mine", "ok", "secret", "failing"), nil, rl.Last()); !strings.Contains(r.LastReload.Error, "secret") {
		t.Errorf("a caller who sees every role lacks the reload error: %+v", r.LastReload)
	}
}

func TestHandler(t *testing.T) {
	var rep atomic.Pointer[ready.Report]
	h := ready.Handler(func(*http.Request) ready.Report { return *rep.Load() })
	for _, tc := range []struct {
		r    ready.Report
		code int
	}{{ready.Check(roles("a", "ok"), nil, nil), 200}, {ready.Check(roles("a", "failing"), nil, nil), 503}} {
		rep.Store(&tc.r)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
		var got ready.Report
		if w.Code != tc.code || json.Unmarshal(w.Body.Bytes(), &got) != nil || got.Ready != tc.r.Ready {
			t.Errorf("GET /readyz = %d %s, want %d", w.Code, w.Body, tc.code)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/readyz", nil))
	if w.Code != 405 {
		t.Errorf("POST /readyz = %d, want 405", w.Code)
	}
}

// TestWaitTried: WaitTried returns once no role is pending, failing roles
// included, and not before.
func TestWaitTried(t *testing.T) {
	clk := clock.NewFake(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	var cur atomic.Pointer[[]service.RoleStatus]
	set := func(r []service.RoleStatus) { cur.Store(&r) }
	set(roles("a", "ok", "b", "pending"))
	done := make(chan []service.RoleStatus, 1)
	go func() {
		r, err := ready.WaitTried(context.Background(), clk, 100*time.Millisecond, func() []service.RoleStatus { return *cur.Load() })
		if err != nil {
			t.Error(err)
		}
		done <- r
	}()
	waitTimer(t, clk)
	clk.Advance(100 * time.Millisecond) // b still pending: WaitTried waits again
	waitTimer(t, clk)
	select {
	case <-done:
		t.Fatal("WaitTried returned while a role was pending")
	default:
	}
	set(roles("a", "ok", "b", "failing"))
	clk.Advance(100 * time.Millisecond)
	select {
	case r := <-done:
		if len(r) != 2 || r[1].State != "failing" {
			t.Errorf("WaitTried = %+v", r)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("WaitTried did not return once every role was tried")
	}
}

func TestWaitTriedCancel(t *testing.T) {
	clk := clock.NewFake(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ready.WaitTried(ctx, clk, time.Second, func() []service.RoleStatus { return roles("a", "pending") }); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitTried after cancel = %v", err)
	}
}

// waitTimer waits until WaitTried has armed its timer.
func waitTimer(t *testing.T, clk *clock.Fake) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); clk.Timers() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("WaitTried armed no timer")
		}
	}
}
