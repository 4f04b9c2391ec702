package credproc_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/credproc"
)

// cliConfig has several profiles, keys the CLI does not know at every
// level, a number too big for float64, and an odd key order.
const cliConfig = `{
	"current": "dev",
	"x-team-note": {"owner": "infra", "tags": ["a", "b"]},
	"profiles": [
		{"name": "dev", "mode": "AK", "access_key_id": "LTAIdev", "access_key_secret": "dev-secret", "region_id": "cn-hangzhou", "x-custom": 12345678901234567890},
		{"mode": "External", "name": "ossd", "process_command": "old-helper --x", "region_id": "cn-beijing", "sts_token": "", "x-keep": [1, {"deep": true}]},
		{"name": "prod", "mode": "RamRoleArn", "ram_role_arn": "acs:ram::1:role/p", "ram_session_name": "s", "region_id": "cn-shanghai"}
	],
	"meta_path": "",
	"plugins": {"settings": {"auto": false}}
}`

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return m
}

func profiles(t *testing.T, m map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, p := range m["profiles"].([]any) {
		pm := p.(map[string]any)
		out[pm["name"].(string)] = pm
	}
	return out
}

func TestSetProfileUpdateKeepsEverythingElse(t *testing.T) {
	edit := credproc.ProfileEdit{Name: "ossd",
		Set:     []credproc.Field{{Key: "mode", Value: "External"}, {Key: "process_command", Value: "ossd credential-process --role reader"}},
		NewOnly: []credproc.Field{{Key: "output_format", Value: "json"}}}
	out, res, err := credproc.SetProfile([]byte(cliConfig), edit)
	if err != nil {
		t.Fatal(err)
	}
	if res.Created {
		t.Error("Created = true for an existing profile")
	}
	if v, ok := res.Before("process_command"); !ok || string(v) != `"old-helper --x"` {
		t.Errorf("Before(process_command) = %s, %v", v, ok)
	}
	before, after := decode(t, []byte(cliConfig)), decode(t, out)
	bp, ap := profiles(t, before), profiles(t, after)
	bp["ossd"]["process_command"] = "ossd credential-process --role reader"
	if !reflect.DeepEqual(bp, ap) {
		t.Errorf("profiles differ beyond process_command:\nbefore %v\nafter  %v", bp, ap)
	}
	delete(before, "profiles")
	delete(after, "profiles")
	if !reflect.DeepEqual(before, after) {
		t.Errorf("top level changed:\nbefore %v\nafter  %v", before, after)
	}
	if _, ok := ap["ossd"]["output_format"]; ok {
		t.Error("NewOnly field written into an existing profile")
	}
	// Key order survives: x-team-note still precedes profiles, and in the
	// edited profile mode still precedes name.
	s := string(out)
	if strings.Index(s, "x-team-note") > strings.Index(s, `"profiles"`) || strings.Index(s, `"plugins"`) < strings.Index(s, `"meta_path"`) {
		t.Errorf("top-level key order changed:\n%s", s)
	}
	if i := strings.Index(s, `"process_command": "ossd`); i < 0 || strings.LastIndex(s[:i], `"mode": "External"`) < strings.LastIndex(s[:i], `"name": "dev"`) {
		t.Errorf("profile key order changed:\n%s", s)
	}
	if !strings.Contains(s, "12345678901234567890") || !strings.Contains(s, "\n\t\"current\"") {
		t.Errorf("big number lost or not tab-indented:\n%s", s)
	}
}

func TestSetProfileAddAndCurrent(t *testing.T) {
	edit := credproc.ProfileEdit{Name: "new", MakeCurrent: true,
		Set:     []credproc.Field{{Key: "mode", Value: "CredentialsURI"}, {Key: "credentials_uri", Value: "http://127.0.0.1:8080/c?role=r&t=x<y>"}},
		NewOnly: []credproc.Field{{Key: "output_format", Value: "json"}}}
	out, res, err := credproc.SetProfile([]byte(cliConfig), edit)
	if err != nil {
		t.Fatal(err)
	}
	after := decode(t, out)
	p := profiles(t, after)["new"]
	if !res.Created || after["current"] != "new" || p["mode"] != "CredentialsURI" || p["output_format"] != "json" || len(profiles(t, after)) != 4 {
		t.Errorf("added profile: created=%v current=%v profile=%v", res.Created, after["current"], p)
	}
	if !strings.Contains(string(out), "&t=x<y>") {
		t.Errorf("URI was HTML-escaped:\n%s", out)
	}
}

func TestSetProfileNewFile(t *testing.T) {
	out, res, err := credproc.SetProfile(nil, credproc.ProfileEdit{Name: "ossd", Set: []credproc.Field{{Key: "mode", Value: "External"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n\t\"current\": \"ossd\",\n\t\"profiles\": [\n\t\t{\n\t\t\t\"name\": \"ossd\",\n\t\t\t\"mode\": \"External\"\n\t\t}\n\t],\n\t\"meta_path\": \"\"\n}\n"
	if !res.Created || string(out) != want {
		t.Errorf("new file =\n%s\nwant\n%s", out, want)
	}
}

func TestSetProfileRefusals(t *testing.T) {
	const secret = "do-not-print-this-secret"
	tests := map[string]string{
		"not JSON":          `{"profiles": [{"name": "a", "access_key_secret": "` + secret + `"`,
		"trailing data":     `{"profiles": []} {"x": "` + secret + `"}`,
		"array at top":      `[{"access_key_secret": "` + secret + `"}]`,
		"profiles a string": `{"profiles": "` + secret + `"}`,
		"profile a string":  `{"profiles": ["` + secret + `"]}`,
		"two named ossd":    `{"profiles": [{"name": "ossd"}, {"name": "ossd", "access_key_secret": "` + secret + `"}]}`,
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			_, _, err := credproc.SetProfile([]byte(in), credproc.ProfileEdit{Name: "ossd"})
			if !errors.Is(err, credproc.ErrBadCLIConfig) {
				t.Fatalf("err = %v, want ErrBadCLIConfig", err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error quotes the file: %v", err)
			}
		})
	}
}

func TestBackupAndWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.FixedZone("CST", 8*3600))
	for i, want := range []string{path + ".bak-20300101T190405Z", path + ".bak-20300101T190405Z-2"} {
		name, err := credproc.Backup(path, []byte("v"+string(rune('1'+i))), now)
		if err != nil || name != want {
			t.Fatalf("Backup #%d = %q, %v; want %q", i+1, name, err, want)
		}
		if fi, err := os.Stat(name); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("backup mode = %v, %v; want 0600", fi.Mode(), err)
		}
	}
	if b, _ := os.ReadFile(path + ".bak-20300101T190405Z"); string(b) != "v1" {
		t.Errorf("first backup overwritten: %q", b)
	}
	if err := credproc.WriteAtomic(path, []byte("{}\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("written mode = %v, %v; want 0640", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("directory holds %d entries, want config and two backups (no temp files left)", len(entries))
	}
}

// FuzzSetProfile checks that SetProfile never panics and that whatever it
// accepts comes out as JSON in which the CLI (encoding/json, keys matched
// ignoring case) finds the edited profile, with every other top-level key
// unchanged in meaning.
func FuzzSetProfile(f *testing.F) {
	for _, s := range []string{cliConfig, "", "{}", `{"profiles":null}`, `{"profiles":[{"name":"ossd"}]}`, `{"a":1,"a":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, _, err := credproc.SetProfile(in, credproc.ProfileEdit{Name: "ossd", Set: []credproc.Field{{Key: "mode", Value: "External"}}})
		if err != nil {
			return
		}
		var after map[string]json.RawMessage
		if err := json.Unmarshal(out, &after); err != nil {
			t.Fatalf("output is not a JSON object: %v\n%s", err, out)
		}
		// Read the profiles as the CLI does: encoding/json into tagged
		// fields, which matches keys ignoring case, at the top level too
		// ("prOfiles" is the CLI's profiles).
		var cfg struct {
			Profiles []struct {
				Name string `json:"name"`
				Mode string `json:"mode"`
			} `json:"profiles"`
		}
		if err := json.Unmarshal(out, &cfg); err != nil {
			t.Fatalf("profiles: %v", err)
		}
		found := false
		for _, p := range cfg.Profiles {
			found = found || (p.Name == "ossd" && p.Mode == "External")
		}
		if !found {
			t.Fatalf("edited profile missing:\n%s", out)
		}
		var before map[string]any
		if json.Unmarshal(in, &before) != nil {
			return
		}
		for k, v := range before {
			if strings.EqualFold(k, "profiles") {
				continue
			}
			var got any
			if err := json.Unmarshal(after[k], &got); err != nil || !reflect.DeepEqual(got, v) {
				t.Fatalf("key %q changed: %v -> %s", k, v, after[k])
			}
		}
	})
}
