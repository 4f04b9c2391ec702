package config_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/config"
)

// goTypeRe matches what go-toml says of Go types: "config.Source",
// "ossd.Secret", "struct field", "of type".
var goTypeRe = regexp.MustCompile(`config\.|ossd\.|struct field|of type`)

func TestParseTypeErrorsWithEveryOtherProblem(t *testing.T) {
	in := "[source]\ntype = \"access_key\"\naccess_key_secret = 123\n" + // line 3
		sts + "max_qps = \"fast\"\n" + // line 6
		"regoin = \"x\"\n" + // line 7: unknown key, after the type errors
		"[[role]]\nname = \"r\"\narn = \"arn:x\"\n" // role[0].arn malformed
	_, err := config.Parse(strings.NewReader(in))
	if err == nil {
		t.Fatal("Parse accepted a config with type errors")
	}
	msg := err.Error()
	for _, want := range []string{
		"line 3: source.access_key_secret: want a string, not an integer",
		"line 6: sts.max_qps: want a number, not a string",
		`line 7: unknown key "sts.regoin"`,
		"role[0].arn: malformed role ARN",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if goTypeRe.MatchString(msg) {
		t.Errorf("error names Go types:\n%s", msg)
	}
	var te *config.TypeError
	if !errors.As(err, &te) || te.Key != "source.access_key_secret" {
		t.Errorf("errors.As(*TypeError) = %+v", te)
	}
}

func TestParseTypeErrorKinds(t *testing.T) {
	tests := []struct{ in, want string }{
		{withRole("[role.allow]\nusers = \"bob\"\n"), "line 9: role.allow.users: want an array of strings, not a string"},
		{src + "[log]\nlevel = true\n" + sts + role, "line 4: log.level: want a string, not a boolean"},
		{ok + "[metrics]\nallow_non_loopback = \"yes\"\n", "line 9: metrics.allow_non_loopback: want true or false, not a string"},
		{src + sts + "[server]\nmax_sessions = \"many\"\n" + role, "line 6: server.max_sessions: want an integer, not a string"},
	}
	for _, tc := range tests {
		_, err := config.Parse(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want %q", tc.in, err, tc.want)
		}
		if err != nil && goTypeRe.MatchString(err.Error()) {
			t.Errorf("Parse(%q) names Go types: %v", tc.in, err)
		}
	}
}

// A value that may span lines is not blanked: the rest of the document
// would be misread. Its type error is still reported, alone.
func TestParseTypeErrorMultiLine(t *testing.T) {
	in := src + "access_key_id = [\n  1,\n  2,\n]\n" + sts + role
	_, err := config.Parse(strings.NewReader(in))
	if err == nil || !strings.Contains(err.Error(), "line 3: source.access_key_id: want a string, not an array") {
		t.Fatalf("Parse = %v", err)
	}
}

func TestRoleARNAccountID(t *testing.T) {
	err := config.ValidRoleARN("acs:ram::123:role/r")
	if err == nil || !strings.Contains(err.Error(), `account id "123": want the 16 digits`) {
		t.Errorf("ValidRoleARN(short account) = %v", err)
	}
	if err := config.ValidRoleARN("acs:ram::1234567890123456:role/r"); err != nil {
		t.Errorf("ValidRoleARN(16 digits) = %v", err)
	}
}
