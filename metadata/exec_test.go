package metadata_test

import (
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/metadata"
)

// grants is a fixed table of exec tokens.
type grants map[string][2]string

func (g grants) Grant(tok string) (string, string, bool) {
	v, ok := g[tok]
	return v[0], v[1], ok
}

func TestExecURI(t *testing.T) {
	env := newEnv(t)
	var none []string
	live := strings.Repeat("A", 43)
	u := metadata.NewURI(metadata.URIOptions{Source: env.Service, Key: metadata.NewKey(), Log: logger(t, env, &none),
		BaseURL: "http://placeholder", Grants: grants{live: {"reader", "job"}}})
	addr := serve(t, u)
	if got := u.ExecURL(live); got != "http://placeholder"+metadata.ExecPrefix+live {
		t.Errorf("ExecURL = %q", got)
	}
	r := raw(t, addr, request("GET", metadata.ExecPrefix+live, addr))
	want := string(env.Get(testenv.Params("reader")).AppendJSON(nil)) // the plain session: job is a different one
	if r.status != 200 || r.body == want || !strings.Contains(r.body, `"Code":"Success"`) {
		t.Fatalf("GET live exec URI = %d, want 200 with the job session's token", r.status)
	}
	tests := []struct {
		name, method, target string
		headers              []string
		status               int
		code                 string
	}{
		{"not registered", "GET", metadata.ExecPrefix + strings.Repeat("B", 43), nil, 403, metadata.CodeExecEnded},
		{"empty token", "GET", metadata.ExecPrefix, nil, 403, metadata.CodeExecEnded},
		{"POST", "POST", metadata.ExecPrefix + live, nil, 403, metadata.CodeExecEnded},
		{"forwarded", "GET", metadata.ExecPrefix + live, []string{"X-Forwarded-For: 10.0.0.1"}, 403, metadata.CodeForbidden},
		{"browser", "GET", metadata.ExecPrefix + live, []string{"Origin: http://evil.example"}, 403, metadata.CodeForbidden},
	}
	for _, tt := range tests {
		r := raw(t, addr, request(tt.method, tt.target, addr, tt.headers...))
		if r.status != tt.status || !strings.Contains(r.body, `"Code":"`+tt.code+`"`) {
			t.Errorf("%s: %d %s, want %d %s", tt.name, r.status, r.body, tt.status, tt.code)
		}
		noSecrets(t, env, tt.name, r.body)
	}
}

// TestExecURIOff: without Grants the exec prefix is an unknown path.
func TestExecURIOff(t *testing.T) {
	env := newEnv(t)
	_, addr := startURI(t, env, metadata.NewKey())
	if r := raw(t, addr, request("GET", metadata.ExecPrefix+strings.Repeat("A", 43), addr)); r.status != 404 {
		t.Errorf("exec path without Grants = %d, want 404", r.status)
	}
}
