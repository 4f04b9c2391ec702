package metadata_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/service"
	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/metadata"
)

func startURI(t *testing.T, env *testenv.Env, key *metadata.Key) (*metadata.URIServer, string) {
	t.Helper()
	var none []string
	u := metadata.NewURI(metadata.URIOptions{Source: env.Service, Key: key, Log: logger(t, env, &none), BaseURL: "http://placeholder"})
	addr := serve(t, u)
	return u, addr
}

// path returns the path of u's URL for role.
func path(t *testing.T, u *metadata.URIServer, role string) string {
	t.Helper()
	url, err := u.URL(role)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(url, "http://placeholder")
}

func TestURI(t *testing.T) {
	env := newEnv(t)
	key := metadata.NewKey()
	u, addr := startURI(t, env, key)
	reader, writer := path(t, u, "reader"), path(t, u, "writer")
	if reader == writer || !strings.HasPrefix(reader, metadata.URIPrefix) || len(reader) != len(metadata.URIPrefix)+43 {
		t.Fatalf("paths %q and %q", reader, writer)
	}
	want := string(env.Get(testenv.Params("reader")).AppendJSON(nil))
	if r := raw(t, addr, request("GET", reader, addr)); r.status != 200 || r.body != want {
		t.Fatalf("GET reader URI = %d %s", r.status, r.body)
	}
	// Python's URI provider sends Host without port.
	if r := raw(t, addr, request("GET", reader, "127.0.0.1")); r.status != 200 {
		t.Errorf("Host without port: %d", r.status)
	}
	if r := raw(t, addr, request("GET", writer, addr)); r.status != 200 || !strings.Contains(r.body, env.STS.Issued()[1].AccessKeyID) && !strings.Contains(r.body, env.STS.Issued()[0].AccessKeyID) {
		t.Errorf("GET writer URI = %d %s", r.status, r.body)
	}
	other := metadata.NewKey().Token("reader")
	notFound := raw(t, addr, request("GET", "/nowhere", addr))
	if notFound.status != 404 {
		t.Fatalf("GET /nowhere = %d", notFound.status)
	}
	refusals := map[string]string{
		"another key's token":  request("GET", metadata.URIPrefix+other, addr),
		"token cut short":      request("GET", reader[:len(reader)-1], addr),
		"token with extra":     request("GET", reader+"A", addr),
		"role name as token":   request("GET", metadata.URIPrefix+"reader", addr),
		"empty token":          request("GET", metadata.URIPrefix, addr),
		"token in another dir": request("GET", "/v2/credentials/"+strings.TrimPrefix(reader, metadata.URIPrefix), addr),
		"POST":                 request("POST", reader, addr, "Content-Length: 0"),
		"PUT":                  request("PUT", reader, addr),
	}
	for name, req := range refusals {
		r := raw(t, addr, req)
		if r.status != 404 || r.body != notFound.body {
			t.Errorf("%s: %d %s, want the same 404 as an unknown path", name, r.status, r.body)
		}
		noSecrets(t, env, name, r.body)
	}
	for name, h := range map[string]string{"X-Forwarded-For": "X-Forwarded-For: 1.2.3.4", "Origin": "Origin: http://x", "Referer": "Referer: http://x/"} {
		if r := raw(t, addr, request("GET", reader, addr, h)); r.status != 403 {
			t.Errorf("%s: %d, want 403", name, r.status)
		}
	}

	// A role removed from the table loses its URI, and gets the same 404.
	env.Service.Apply(context.Background(), testenv.Roles("reader"))
	if r := raw(t, addr, request("GET", writer, addr)); r.status != 404 || r.body != notFound.body {
		t.Errorf("removed role: %d %s", r.status, r.body)
	}
	if _, err := u.URL("writer"); !errors.Is(err, ossd.ErrUnknownRole) {
		t.Errorf("URL(writer) after removal: %v, want ErrUnknownRole", err)
	}
}

func TestLookupHandler(t *testing.T) {
	env := newEnv(t)
	u := metadata.NewURI(metadata.URIOptions{Source: env.Service, Key: metadata.NewKey(), BaseURL: "http://127.0.0.1:8101/"})
	var current *metadata.URIServer
	mux := http.NewServeMux()
	authorize := func(r *http.Request, role string) error {
		if role == "secret" {
			return &service.DeniedError{Role: role, Reason: "test"}
		}
		_, err := env.Service.Authorize(r.Context(), role)
		return err
	}
	mux.Handle("/v1/uri/{role}", metadata.LookupHandler(func() *metadata.URIServer { return current }, authorize))
	get := func(role string) (int, string) {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest("GET", "/v1/uri/"+role, nil))
		return w.Code, w.Body.String()
	}
	if code, body := get("reader"); code != 404 || !strings.Contains(body, metadata.CodeURIDisabled) {
		t.Errorf("disabled: %d %s", code, body)
	}
	current = u
	code, body := get("reader")
	var got struct{ Role, URI string }
	if err := json.Unmarshal([]byte(body), &got); code != 200 || err != nil {
		t.Fatalf("lookup reader: %d %s %v", code, body, err)
	}
	want, _ := u.URL("reader")
	if got.Role != "reader" || got.URI != want || !strings.HasPrefix(want, "http://127.0.0.1:8101/v1/credentials/") {
		t.Errorf("lookup = %+v, want URI %s", got, want)
	}
	if code, body := get("nobody"); code != 404 || !strings.Contains(body, metadata.CodeUnknownRole) {
		t.Errorf("unknown role: %d %s", code, body)
	}
	if code, body := get("secret"); code != 403 || !strings.Contains(body, metadata.CodeDenied) || strings.Contains(body, "/v1/credentials/") {
		t.Errorf("a caller refused the role: %d %s", code, body)
	}
}

func TestLoadKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	var wg sync.WaitGroup
	tokens := make([]string, 8)
	for i := range tokens {
		wg.Go(func() {
			k, err := metadata.LoadKey(dir)
			if err != nil {
				t.Error(err)
				return
			}
			tokens[i] = k.Token("reader")
		})
	}
	wg.Wait()
	for i, tok := range tokens {
		if tok != tokens[0] {
			t.Fatalf("concurrent LoadKey %d made another key", i)
		}
	}
	path := filepath.Join(dir, metadata.KeyFile)
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %04o", p, fi.Mode().Perm(), err, want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("state dir holds %d files, want only the key", len(entries))
	}
	k, err := metadata.LoadKey(dir) // a restart
	if err != nil || k.Token("reader") != tokens[0] {
		t.Fatalf("reloaded key differs (%v)", err)
	}
	if k.Token("writer") == tokens[0] {
		t.Error("two roles share a token")
	}
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%#v", k), fmt.Sprintf("%v", *k), fmt.Sprintf("%+v", *k)} {
		if s != ossd.Redacted {
			t.Errorf("key renders as %q", s)
		}
	}
}

func TestLoadKeyRefuses(t *testing.T) {
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		want    string
	}{
		{"readable by others", strings.Repeat("ab", 32) + "\n", 0o644, "chmod 600"},
		{"short", "abcd\n", 0o600, "malformed"},
		{"not hex", strings.Repeat("zz", 32), 0o600, "malformed"},
		{"empty", "", 0o600, "malformed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, metadata.KeyFile)
			if err := os.WriteFile(path, []byte(tc.content), tc.mode); err != nil {
				t.Fatal(err)
			}
			os.Chmod(path, tc.mode)
			_, err := metadata.LoadKey(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("LoadKey = %v, want an error with %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "abab") {
				t.Errorf("error shows the key: %v", err)
			}
			if got, _ := os.ReadFile(path); string(got) != tc.content {
				t.Error("LoadKey changed a key file it refused")
			}
		})
	}
}

// The key is read through no link, and from no directory another user
// could swap: he would choose the key, and so every credentials URI.
func TestLoadKeyRefusesUnsafePaths(t *testing.T) {
	dir := t.TempDir()
	theirs := filepath.Join(t.TempDir(), "their.key")
	os.WriteFile(theirs, []byte(strings.Repeat("ab", 32)+"\n"), 0o600)
	os.Symlink(theirs, filepath.Join(dir, metadata.KeyFile))
	if _, err := metadata.LoadKey(dir); err == nil || !strings.Contains(err.Error(), "is a symbolic link to "+theirs) {
		t.Errorf("LoadKey through a link = %v, want a refusal", err)
	}
	if _, err := metadata.LoadKey("state"); err == nil || !strings.Contains(err.Error(), "not an absolute path") {
		t.Errorf("LoadKey(relative) = %v, want a refusal", err)
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a directory owned by another uid")
	}
	parent := filepath.Join(t.TempDir(), "theirs")
	os.Mkdir(parent, 0o755)
	os.Chown(parent, testenv.Attacker, testenv.Attacker)
	if _, err := metadata.LoadKey(filepath.Join(parent, "ossd")); err == nil || !strings.Contains(err.Error(), parent+" (owner uid 4701, mode 0755) is not owned by root") {
		t.Errorf("LoadKey under another user's directory = %v, want a refusal", err)
	}
	if _, err := os.Stat(filepath.Join(parent, "ossd")); err == nil {
		t.Error("LoadKey created the state directory under another user's directory")
	}
}
