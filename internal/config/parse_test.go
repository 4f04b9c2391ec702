package config_test

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/internal/ratelimit"
)

// Building blocks of test configs. TOML tables cannot be reopened, so a case
// appends keys right after the header it extends: src + sts + "max_qps = 0\n".
const (
	src  = "[source]\ntype = \"default\"\n"    // lines 1-2
	sts  = "[sts]\nregion = \"cn-hangzhou\"\n" // lines 3-4
	role = "[[role]]\nname = \"reader\"\narn = \"acs:ram::1234567890123456:role/oss-reader\"\n"
	ok   = src + sts + role
)

func withRole(extra string) string { return src + sts + role + extra }

func TestParseFull(t *testing.T) {
	f, err := os.Open("testdata/full.toml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := config.Parse(f)
	if err != nil {
		t.Fatalf("Parse(full.toml): %v", err)
	}
	want := &config.Config{
		Source: config.Source{Type: config.SourceAccessKey},
		STS: config.STS{Region: "cn-hangzhou", Endpoint: "https://sts.cn-hangzhou.aliyuncs.com",
			Timeout: config.Duration(5 * time.Second), MaxQPS: 20},
		Refresh: config.Refresh{Floor: config.Duration(16 * time.Minute), HardMinimum: config.Duration(5 * time.Minute),
			OutageMargin: config.Duration(5 * time.Minute), Spread: config.Duration(5 * time.Minute), StartSpread: 0},
		Server: config.Server{SocketMode: "0600", MaxSessions: 10000, RatePerUID: 1000, BurstPerUID: 2000},
		Log:    config.Log{Level: "info", Format: "text"},
		Audit:  config.Audit{Required: true},
		Roles: []config.Role{{
			Name: "reader", ARN: "acs:ram::1234567890123456:role/oss-reader",
			SessionName: "ossd-reader", Duration: config.Duration(time.Hour), SessionPer: "role",
		}, {
			Name: "uploader", ARN: "acs:ram::1234567890123456:role/oss-writer",
			SessionName: "ossd-uploader", Duration: config.Duration(2 * time.Hour),
			Policy:     `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:PutObject"],"Resource":["acs:oss:*:*:uploads/*"]}]}`,
			ExternalID: "ossd-uploader", SessionPer: "role",
		}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse(full.toml) =\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseDefaults(t *testing.T) {
	got, err := config.Parse(strings.NewReader(ok))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"sts.endpoint", got.STS.Endpoint, "https://sts.cn-hangzhou.aliyuncs.com"},
		{"sts.timeout", got.STS.Timeout, config.Duration(5 * time.Second)},
		{"sts.max_qps", got.STS.MaxQPS, 20.0},
		{"refresh.floor", got.Refresh.Floor, config.Duration(16 * time.Minute)},
		{"refresh.hard_minimum", got.Refresh.HardMinimum, config.Duration(5 * time.Minute)},
		{"refresh.outage_margin", got.Refresh.OutageMargin, config.Duration(5 * time.Minute)},
		{"refresh.spread", got.Refresh.Spread, config.Duration(5 * time.Minute)},
		{"refresh.start_spread", got.Refresh.StartSpread, config.Duration(0)},
		{"server.socket", got.Server.Socket, ""},
		{"server.socket_mode", got.Server.SocketMode, "0600"},
		{"server.FileMode", got.Server.FileMode(), os.FileMode(0o600)},
		{"server.socket_group", got.Server.SocketGroup, ""},
		{"server.max_sessions", got.Server.MaxSessions, 10000},
		{"server.rate_per_uid", got.Server.RatePerUID, float64(ratelimit.DefaultRate)},
		{"server.burst_per_uid", got.Server.BurstPerUID, ratelimit.DefaultBurst},
		{"audit.required", got.Audit.Required, true},
		{"metrics.role_labels", got.Metrics.RoleLabels, false},
		{"log.level", got.Log.Level, "info"},
		{"log.format", got.Log.Format, "text"},
		{"role.session_name", got.Roles[0].SessionName, "ossd-reader"},
		{"role.duration", got.Roles[0].Duration, config.Duration(time.Hour)},
		{"role.policy", got.Roles[0].Policy, ""},
		{"role.external_id", got.Roles[0].ExternalID, ""},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	def := config.Default()
	if def.STS != (config.STS{Timeout: got.STS.Timeout, MaxQPS: got.STS.MaxQPS}) ||
		def.Refresh != got.Refresh || def.Server != got.Server || def.Log != got.Log || len(def.Roles) != 0 {
		t.Errorf("Default() = %+v, disagrees with Parse's defaults %+v", def, got)
	}
}

func TestParseDefaultSessionName(t *testing.T) {
	long := strings.Repeat("a", 64)
	in := src + sts + "[[role]]\nname = \"" + long + "\"\narn = \"acs:ram::1111111111111111:role/x\"\n"
	c, err := config.Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Roles[0].SessionName, ("ossd-" + long)[:64]; got != want {
		t.Errorf("SessionName = %q, want %q", got, want)
	}
}

// fieldErrors flattens err into its *FieldErrors.
func fieldErrors(err error) []*config.FieldError {
	if fe, ok := err.(*config.FieldError); ok {
		return []*config.FieldError{fe}
	}
	var out []*config.FieldError
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			out = append(out, fieldErrors(e)...)
		}
	}
	return out
}

func TestParse(t *testing.T) {
	for _, tt := range parseTests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Parse(strings.NewReader(tt.in))
			if tt.wantErr == nil && tt.field == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if c == nil {
					t.Fatal("Parse returned a nil config and no error")
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse = nil error, want one containing %q", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse error = %q, want it to contain %q", err, w)
				}
			}
			fes := fieldErrors(err)
			if tt.field != "" && !hasField(fes, tt.field) {
				t.Errorf("Parse error = %q, want a *FieldError for %s", err, tt.field)
			}
			if tt.count > 0 && len(fes) != tt.count {
				t.Errorf("Parse reported %d problems, want %d:\n%v", len(fes), tt.count, err)
			}
		})
	}
}

func hasField(fes []*config.FieldError, field string) bool {
	for _, fe := range fes {
		if fe.Field == field {
			return true
		}
	}
	return false
}

func TestFieldError(t *testing.T) {
	inner := errors.New("boom")
	err := error(&config.FieldError{Field: "role[1].arn", Err: inner})
	if got, want := err.Error(), "role[1].arn: boom"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, inner) {
		t.Error("errors.Is(FieldError, inner) = false, want true")
	}
	_, perr := config.Parse(strings.NewReader(withRole("[[role]]\nname = \"w\"\narn = \"x\"\n")))
	var fe *config.FieldError
	if !errors.As(perr, &fe) || fe.Field != "role[1].arn" {
		t.Errorf("errors.As(%v) = %v, want the role[1].arn FieldError", perr, fe)
	}
	want := `role[1].arn: malformed role ARN "x": want acs:ram::<account-id>:role/<name>`
	if perr == nil || perr.Error() != want {
		t.Errorf("Parse error = %v, want %q", perr, want)
	}
}

func TestValidateDefault(t *testing.T) {
	c := config.Default()
	err := c.Validate()
	for _, f := range []string{"source.type", "sts.region", "role"} {
		if !hasField(fieldErrors(err), f) {
			t.Errorf("Default().Validate() = %v, want a problem with %s", err, f)
		}
	}
	c.Source.Type = config.SourceDefault
	c.STS.Region = "cn-beijing"
	c.Roles = []config.Role{{Name: "dev", ARN: "acs:ram::1111111111111111:role/dev", SessionName: "ossd-dev", Duration: config.Duration(time.Hour)}}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate() of a completed Default() = %v, want nil", err)
	}
	if got, want := c.STS.EndpointURL(), "https://sts.cn-beijing.aliyuncs.com"; got != want {
		t.Errorf("EndpointURL() = %q, want %q", got, want)
	}
}

func TestInlineSecretNotPrinted(t *testing.T) {
	in := "[source]\ntype = \"access_key\"\naccess_key_id = \"LTAIx\"\naccess_key_secret = \"do-not-print\"\n" + sts + role
	c, err := config.Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Source.AccessKeySecret.Reveal(); got != "do-not-print" {
		t.Errorf("AccessKeySecret = %q, want the inline value", got)
	}
	for _, format := range []string{"%v", "%+v", "%#v"} {
		if s := fmt.Sprintf(format, c); strings.Contains(s, "do-not-print") {
			t.Errorf("Sprintf(%q, config) = %s, leaks the secret", format, s)
		}
	}
}
