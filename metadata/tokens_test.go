package metadata_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/metadata"
)

const tokenHeader = "X-aliyun-ecs-metadata-token: "

func TestTokenModes(t *testing.T) {
	env := newEnv(t)
	optional := startMetadata(t, env, metadata.Options{})
	required := startMetadata(t, env, metadata.Options{RequireToken: true})
	tokOpt := optional.putToken(t, "60")
	tokReq := required.putToken(t, "60")
	tests := []struct {
		name   string
		f      *fixture
		header []string
		status int
		code   string
	}{
		{"optional, no token", optional, nil, 200, ""},
		{"optional, empty token", optional, []string{"X-aliyun-ecs-metadata-token:"}, 200, ""},
		{"optional, valid token", optional, []string{tokenHeader + tokOpt}, 200, ""},
		{"optional, bad token", optional, []string{tokenHeader + "x" + tokOpt}, 401, metadata.CodeTokenInvalid},
		{"optional, other listener's token", optional, []string{tokenHeader + tokReq}, 401, metadata.CodeTokenInvalid},
		{"required, no token", required, nil, 401, metadata.CodeTokenRequired},
		{"required, empty token", required, []string{"X-aliyun-ecs-metadata-token:"}, 401, metadata.CodeTokenRequired},
		{"required, valid token", required, []string{tokenHeader + tokReq}, 200, ""},
		{"required, other listener's token", required, []string{tokenHeader + tokOpt}, 401, metadata.CodeTokenInvalid},
		{"required, two tokens", required, []string{tokenHeader + tokReq, tokenHeader + tokReq}, 401, metadata.CodeTokenInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, target := range []string{metadata.CredsPath, creds} {
				r := tc.f.get(t, target, tc.header...)
				if r.status != tc.status || tc.code != "" && !strings.Contains(r.body, tc.code) {
					t.Errorf("GET %s = %d %s, want %d %s", target, r.status, r.body, tc.status, tc.code)
				}
				if r.status != 200 {
					noSecrets(t, env, "error body", r.body, tokOpt, tokReq)
				}
			}
		})
	}
}

func TestTokenExpiry(t *testing.T) {
	env := newEnv(t)
	optional := startMetadata(t, env, metadata.Options{})
	required := startMetadata(t, env, metadata.Options{RequireToken: true})
	type tok struct {
		f     *fixture
		value string
	}
	var short, long []tok
	for _, f := range []*fixture{optional, required} {
		short = append(short, tok{f, f.putToken(t, "1")})
		long = append(long, tok{f, f.putToken(t, "21600")})
	}
	check := func(when string, toks []tok, want int) {
		t.Helper()
		for _, k := range toks {
			if r := k.f.get(t, creds, tokenHeader+k.value); r.status != want {
				t.Errorf("%s: GET with token = %d %s, want %d", when, r.status, r.body, want)
			} else if want != 200 {
				noSecrets(t, env, "error body", r.body, k.value)
			}
		}
	}
	check("at issue", append(short, long...), 200)
	env.Clock.StepWall(24 * time.Hour) // a wall-clock step neither kills...
	check("after a wall-clock step", short, 200)
	env.Clock.StepWall(-48 * time.Hour) // ...nor revives a token
	env.Clock.Advance(999 * time.Millisecond)
	check("at 999ms", short, 200)
	env.Clock.Advance(time.Millisecond)
	check("at 1s", short, 401)
	env.Clock.Advance(6*time.Hour - time.Second - time.Millisecond)
	check("at 6h-1ms", long, 200)
	env.Clock.Advance(time.Millisecond)
	check("at 6h", long, 401)
}

// TestTokenCap: when full, issuing a token evicts the oldest.
func TestTokenCap(t *testing.T) {
	env := newEnv(t)
	f := startMetadata(t, env, metadata.Options{MaxTokens: 3, RequireToken: true})
	var toks []string
	for range 5 {
		toks = append(toks, f.putToken(t, "600"))
	}
	if n := f.srv.Tokens(); n != 3 {
		t.Errorf("Tokens() = %d, want 3", n)
	}
	for i, tok := range toks {
		want := 200
		if i < 2 {
			want = 401
		}
		if r := f.get(t, creds, tokenHeader+tok); r.status != want {
			t.Errorf("token %d: GET = %d, want %d", i, r.status, want)
		}
	}
	// Expired tokens at the front are dropped before live ones.
	env.Clock.Advance(601 * time.Second)
	f.putToken(t, "600")
	if n := f.srv.Tokens(); n != 1 {
		t.Errorf("after expiry Tokens() = %d, want 1", n)
	}
}

// FuzzTokenTTL: a PUT succeeds exactly when the TTL header is a decimal
// number of seconds in 1..21600, and the token body is bare.
func FuzzTokenTTL(f *testing.F) {
	for _, s := range []string{"1", "21600", "0", "21601", "-1", "+1", "01", "1e3", " 5", "0x10", "", "99999999999999999999"} {
		f.Add(s)
	}
	env := newEnv(f)
	srv := metadata.New(metadata.Options{Source: env.Service, Role: "reader", Clock: env.Clock, Limit: unlimited()})
	f.Fuzz(func(t *testing.T, ttl string) {
		req := httptest.NewRequest(http.MethodPut, "http://100.100.100.200"+metadata.TokenPath, nil)
		req.Header.Set("X-aliyun-ecs-metadata-token-ttl-seconds", ttl)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		n, err := strconv.Atoi(ttl)
		valid := err == nil && n >= 1 && n <= 21600 && strings.Trim(ttl, "0123456789") == ""
		if got := w.Code == 200; got != valid {
			t.Fatalf("PUT with TTL %q = %d %s, want success %v", ttl, w.Code, w.Body, valid)
		}
		if valid && (w.Body.Len() != 43 || strings.ContainsAny(w.Body.String(), "\r\n")) {
			t.Fatalf("token %q is not 43 bare characters", w.Body)
		}
	})
}
