package config_test

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/config"
)

func withPresign(keys string) string { return withRole("[role.presign]\n" + keys) }

// presignTests: a case without fields is valid; otherwise each field must
// be among the *FieldErrors, the first with wantErr in the message.
var presignTests = []struct {
	name    string
	in      string
	fields  []string
	wantErr string
}{
	{name: "buckets only", in: withPresign("buckets = [\"my-bucket\"]\n")},
	{name: "everything", in: withPresign("buckets = [\"a-b\", \"c9c\"]\nprefixes = [\"\", \"x/\"]\nmethods = [\"GET\", \"PUT\", \"HEAD\", \"POST\", \"DELETE\"]\n" +
		"max_expires = \"55m\"\nmax_session_duration = \"1h\"\nregion = \"us-west-1\"\nendpoint = \"https://oss.example.com:8443\"\nurl_style = \"cname\"\n")},
	{name: "twelve hours", in: withPresign("buckets = [\"my-bucket\"]\nmax_expires = \"11h55m\"\nmax_session_duration = \"12h\"\n")},
	{name: "path style", in: withPresign("buckets = [\"my-bucket\"]\nurl_style = \"path\"\n")},
	{name: "no presign", in: ok},

	{name: "buckets missing", in: withPresign("methods = [\"GET\"]\n"), fields: []string{"role[0].presign.buckets"}, wantErr: "required"},
	{name: "buckets empty", in: withPresign("buckets = []\n"), fields: []string{"role[0].presign.buckets"}, wantErr: "required"},
	{name: "empty section", in: withPresign(""), fields: nil},
	{name: "bucket star", in: withPresign("buckets = [\"*\"]\n"), fields: []string{"role[0].presign.buckets[0]"}, wantErr: "patterns are not supported"},
	{name: "bucket upper case", in: withPresign("buckets = [\"ok-bucket\", \"Bad\"]\n"), fields: []string{"role[0].presign.buckets[1]"}, wantErr: "3-63 of a-z, 0-9 and '-'"},
	{name: "bucket hyphen", in: withPresign("buckets = [\"-bucket\"]\n"), fields: []string{"role[0].presign.buckets[0]"}},
	{name: "bucket too long", in: withPresign("buckets = [\"" + strings.Repeat("b", 64) + "\"]\n"), fields: []string{"role[0].presign.buckets[0]"}},
	{name: "prefixes empty", in: withPresign("buckets = [\"my-bucket\"]\nprefixes = []\n"), fields: []string{"role[0].presign.prefixes"}, wantErr: `"" allows any key`},
	{name: "prefix too long", in: withPresign("buckets = [\"my-bucket\"]\nprefixes = [\"" + strings.Repeat("p", 1024) + "\"]\n"), fields: []string{"role[0].presign.prefixes[0]"}, wantErr: "1023 bytes"},
	{name: "prefix dot segment", in: withPresign("buckets = [\"my-bucket\"]\nprefixes = [\"ok/\", \"uploads/../\"]\n"), fields: []string{"role[0].presign.prefixes[1]"}, wantErr: `"uploads/../" has a ".." path segment`},
	{name: "prefix dot segment backslash", in: withPresign("buckets = [\"my-bucket\"]\nprefixes = [\"a\\\\.\\\\b\"]\n"), fields: []string{"role[0].presign.prefixes[0]"}, wantErr: `"." path segment`},
	{name: "prefix partial dot segment", in: withPresign("buckets = [\"my-bucket\"]\nprefixes = [\"a/..\", \"b/.\", \"..c/\", \".d\"]\n")},
	{name: "methods empty", in: withPresign("buckets = [\"my-bucket\"]\nmethods = []\n"), fields: []string{"role[0].presign.methods"}},
	{name: "method lower case", in: withPresign("buckets = [\"my-bucket\"]\nmethods = [\"get\"]\n"), fields: []string{"role[0].presign.methods[0]"}, wantErr: "GET, PUT, HEAD, POST, DELETE"},
	{name: "max_expires over session", in: withPresign("buckets = [\"my-bucket\"]\nmax_expires = \"1h\"\n"), fields: []string{"role[0].presign.max_expires"}, wantErr: "max_session_duration (1h0m0s) minus 5m"},
	{name: "max_expires over explicit session", in: withPresign("buckets = [\"my-bucket\"]\nmax_expires = \"6h\"\nmax_session_duration = \"6h\"\n"), fields: []string{"role[0].presign.max_expires"}},
	{name: "max_expires fraction", in: withPresign("buckets = [\"my-bucket\"]\nmax_expires = \"1.5s\"\n"), fields: []string{"role[0].presign.max_expires"}, wantErr: "whole number"},
	{name: "max_expires negative", in: withPresign("buckets = [\"my-bucket\"]\nmax_expires = \"-1s\"\n"), fields: []string{"role[0].presign.max_expires"}},
	{name: "max_session too long", in: withPresign("buckets = [\"my-bucket\"]\nmax_session_duration = \"13h\"\n"), fields: []string{"role[0].presign.max_session_duration"}, wantErr: "out of range 15m0s..12h0m0s"},
	{name: "max_session too short", in: withPresign("buckets = [\"my-bucket\"]\nmax_session_duration = \"10m\"\n"), fields: []string{"role[0].presign.max_session_duration"}},
	{name: "region", in: withPresign("buckets = [\"my-bucket\"]\nregion = \"evil.com/x\"\n"), fields: []string{"role[0].presign.region"}},
	{name: "endpoint path", in: withPresign("buckets = [\"my-bucket\"]\nendpoint = \"https://oss.example.com/x\"\n"), fields: []string{"role[0].presign.endpoint"}, wantErr: "path"},
	{name: "endpoint scheme", in: withPresign("buckets = [\"my-bucket\"]\nendpoint = \"oss.example.com\"\n"), fields: []string{"role[0].presign.endpoint"}},
	{name: "cloudbox", in: withPresign("buckets = [\"my-bucket\"]\ncloudbox_id = \"cb-f8z7yvzgwfkl9q0h\"\nregion = \"cn-heyuan\"\n")},
	{name: "cloudbox endpoint", in: withPresign("buckets = [\"my-bucket\"]\ncloudbox_id = \"cb-1\"\nendpoint = \"https://cb-1.cn-heyuan.oss-cloudbox.aliyuncs.com\"\n")},
	{name: "cloudbox custom domain", in: withPresign("buckets = [\"my-bucket\"]\ncloudbox_id = \"cb-1\"\nendpoint = \"https://box.example.com\"\nurl_style = \"cname\"\n")},
	{name: "cloudbox only", in: withPresign("cloudbox_id = \"cb-1\"\n"), fields: []string{"role[0].presign.buckets"}, wantErr: "required"},
	{name: "cloudbox id malformed", in: withPresign("buckets = [\"my-bucket\"]\ncloudbox_id = \"cb-1.evil.com\"\n"), fields: []string{"role[0].presign.cloudbox_id"}, wantErr: `want "cb-"`},
	{name: "cloudbox id without cb-", in: withPresign("buckets = [\"my-bucket\"]\ncloudbox_id = \"f8z7yvzgwfkl9q0h\"\n"), fields: []string{"role[0].presign.cloudbox_id"}},
	{name: "cloudbox id too long", in: withPresign("buckets = [\"my-bucket\"]\ncloudbox_id = \"cb-" + strings.Repeat("a", 61) + "\"\n"), fields: []string{"role[0].presign.cloudbox_id"}},
	{name: "cloudbox endpoint without id", in: withPresign("buckets = [\"my-bucket\"]\nendpoint = \"https://cb-1.cn-heyuan.oss-cloudbox.aliyuncs.com\"\n"),
		fields: []string{"role[0].presign.endpoint"}, wantErr: `set cloudbox_id to "cb-1"`},
	{name: "cloudbox control endpoint without id", in: withPresign("buckets = [\"my-bucket\"]\nendpoint = \"http://cb-1.cn-heyuan.oss-cloudbox-control.aliyuncs.com:80\"\n"),
		fields: []string{"role[0].presign.endpoint"}, wantErr: "cloudbox_id"},
	{name: "cloudbox endpoint of another box", in: withPresign("buckets = [\"my-bucket\"]\ncloudbox_id = \"cb-2\"\nendpoint = \"https://cb-1.cn-heyuan.oss-cloudbox.aliyuncs.com\"\n"),
		fields: []string{"role[0].presign.endpoint"}, wantErr: `CloudBox "cb-1"'s, not cloudbox_id "cb-2"'s`},
	{name: "cloudbox id with public endpoint", in: withPresign("buckets = [\"my-bucket\"]\ncloudbox_id = \"cb-2\"\nendpoint = \"https://oss-cn-heyuan.aliyuncs.com\"\n"),
		fields: []string{"role[0].presign.endpoint"}, wantErr: "public OSS endpoint"},
	{name: "url style", in: withPresign("buckets = [\"my-bucket\"]\nurl_style = \"alias\"\n"), fields: []string{"role[0].presign.url_style"}, wantErr: `"virtual", "path" or "cname"`},
	{name: "unknown key", in: withPresign("bucket = [\"my-bucket\"]\n"), wantErr: `unknown key "role.presign.bucket"`},
	{name: "all reported", in: withPresign("buckets = [\"*\"]\nmethods = [\"PATCH\"]\nurl_style = \"x\"\n"),
		fields: []string{"role[0].presign.buckets[0]", "role[0].presign.methods[0]", "role[0].presign.url_style"}},
	{name: "audit file", in: ok + "[audit]\nfile = \"/var/log/ossd/audit.log\"\n"},
	{name: "audit file relative", in: ok + "[audit]\nfile = \"audit.log\"\n", fields: []string{"audit.file"}, wantErr: "absolute"},
}

func TestPresignConfig(t *testing.T) {
	for _, tt := range presignTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse(strings.NewReader(tt.in))
			if tt.fields == nil && tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Parse = %v, want an error containing %q", err, tt.wantErr)
			}
			fes := fieldErrors(err)
			for _, f := range tt.fields {
				if !hasField(fes, f) {
					t.Errorf("Parse = %v, want a problem with %s", err, f)
				}
			}
			if tt.fields != nil && len(fes) != len(tt.fields) {
				t.Errorf("%d problems, want %d: %v", len(fes), len(tt.fields), err)
			}
		})
	}
}

func TestPresignPolicyDefaults(t *testing.T) {
	c, err := config.Parse(strings.NewReader(withPresign("buckets = [\"my-bucket\"]\n")))
	if err != nil {
		t.Fatal(err)
	}
	got, ok := c.Roles[0].PresignPolicy()
	want := config.Presign{Buckets: []string{"my-bucket"}, Prefixes: []string{""}, Methods: []string{"GET"},
		MaxExpires: config.Duration(15 * time.Minute), MaxSessionDuration: config.Duration(time.Hour), URLStyle: "virtual"}
	if !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("PresignPolicy() = %+v, %v; want %+v", got, ok, want)
	}
	short := config.Role{Duration: config.Duration(15 * time.Minute), Presign: config.Presign{Buckets: []string{"b-b"}}}
	if p, _ := short.PresignPolicy(); p.MaxExpires != config.Duration(10*time.Minute) {
		t.Errorf("15m role: max_expires = %s, want 10m (the session minus 5m)", p.MaxExpires)
	}
	if _, ok := (config.Role{}).PresignPolicy(); ok {
		t.Error("a role without presign may presign")
	}
}

// TestFullTomlPresign uncomments the [role.presign] example of full.toml and
// checks that every documented key parses as documented.
func TestFullTomlPresign(t *testing.T) {
	b, err := os.ReadFile("testdata/full.toml")
	if err != nil {
		t.Fatal(err)
	}
	// The example runs from "# [role.presign]" to the first uncommented line.
	lines := strings.Split(string(b), "\n")
	start := slices.Index(lines, "# [role.presign]")
	if start < 0 {
		t.Fatal("full.toml has no commented [role.presign] example")
	}
	for i := start; i < len(lines) && strings.HasPrefix(lines[i], "# "); i++ {
		lines[i] = strings.TrimPrefix(lines[i], "# ")
	}
	in := strings.Join(lines, "\n")
	c, err := config.Parse(strings.NewReader(in))
	if err != nil {
		t.Fatalf("full.toml with presign uncommented: %v", err)
	}
	r, _ := c.Role("uploader")
	want := config.Presign{Buckets: []string{"my-bucket"}, Prefixes: []string{"uploads/"}, Methods: []string{"PUT"},
		MaxExpires: config.Duration(time.Hour), MaxSessionDuration: config.Duration(2 * time.Hour), Region: "cn-hangzhou", URLStyle: "virtual"}
	if !reflect.DeepEqual(r.Presign, want) {
		t.Errorf("uploader presign = %+v, want %+v", r.Presign, want)
	}
}

func TestDiffPresign(t *testing.T) {
	a := config.Role{Name: "a", ARN: "acs:ram::1111111111111111:role/a", Presign: config.Presign{Buckets: []string{"b-1"}}}
	b := a
	b.Presign.Buckets = []string{"b-2"}
	same := a
	same.Presign.Buckets = slices.Clone(a.Presign.Buckets)
	if _, _, chg := config.Diff(roles(a), roles(b)); !slices.Equal(chg, []string{"a"}) {
		t.Errorf("presign change: changed = %v, want [a]", chg)
	}
	if _, _, chg := config.Diff(roles(a), roles(same)); chg != nil {
		t.Errorf("equal presign: changed = %v, want none", chg)
	}
}
