package credproc_test

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/credproc"
)

const secretish = "s3cr3t-value-that-must-not-leak"

var parseTests = []struct {
	name, body string
	ok         bool
}{
	{"valid", `{"AccessKeyId":"STS.a","AccessKeySecret":"` + secretish + `","SecurityToken":"t","Expiration":"2030-01-01T01:00:00Z","LastUpdated":"2030-01-01T00:00:00Z","Code":"Success"}`, true},
	{"no LastUpdated", `{"AccessKeyId":"STS.a","AccessKeySecret":"s","SecurityToken":"t","Expiration":"2030-01-01T01:00:00Z","Code":"Success"}`, true},
	{"no Code", `{"AccessKeyId":"STS.a","AccessKeySecret":"s","SecurityToken":"t","Expiration":"2030-01-01T01:00:00Z"}`, false},
	{"Code Failure", `{"AccessKeyId":"STS.a","AccessKeySecret":"s","SecurityToken":"t","Expiration":"2030-01-01T01:00:00Z","Code":"Failure"}`, false},
	{"offset zone", `{"AccessKeyId":"STS.a","AccessKeySecret":"s","SecurityToken":"t","Expiration":"2030-01-01T01:00:00+00:00","Code":"Success"}`, false},
	{"fractional", `{"AccessKeyId":"STS.a","AccessKeySecret":"s","SecurityToken":"t","Expiration":"2030-01-01T01:00:00.000Z","Code":"Success"}`, false},
	{"bad LastUpdated", `{"AccessKeyId":"STS.a","AccessKeySecret":"s","SecurityToken":"t","Expiration":"2030-01-01T01:00:00Z","LastUpdated":"yesterday","Code":"Success"}`, false},
	{"null token", `{"AccessKeyId":"STS.a","AccessKeySecret":"s","SecurityToken":null,"Expiration":"2030-01-01T01:00:00Z","Code":"Success"}`, false},
	{"no secret", `{"AccessKeyId":"STS.a","SecurityToken":"t","Expiration":"2030-01-01T01:00:00Z","Code":"Success"}`, false},
	{"secret a number", `{"AccessKeyId":"STS.a","AccessKeySecret":12,"SecurityToken":"t","Expiration":"2030-01-01T01:00:00Z","Code":"Success"}`, false},
	{"truncated", `{"AccessKeyId":"STS.a","AccessKeySecret":"` + secretish, false},
	{"syntax error inside secret", `{"AccessKeySecret":"` + secretish + "\x01" + `"}`, false},
	{"array", `[]`, false},
	{"empty", ``, false},
}

func TestParseBody(t *testing.T) {
	for _, tc := range parseTests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := credproc.ParseBody([]byte(tc.body))
			if (err == nil) != tc.ok {
				t.Fatalf("ParseBody = %v, want ok=%v", err, tc.ok)
			}
			if err != nil {
				if !errors.Is(err, credproc.ErrBadBody) {
					t.Errorf("error %v is not ErrBadBody", err)
				}
				if !badBodyMessages.MatchString(err.Error()) {
					t.Errorf("error %q is not one of the fixed messages", err)
				}
				return
			}
			if c.AccessKeyID != "STS.a" || c.Expiration.IsZero() {
				t.Errorf("ParseBody = %#v", c)
			}
		})
	}
}

// badBodyMessages is every message ParseBody may fail with. Each is fixed
// text, parameterised only by a byte offset, one of the body's own field
// names or the kind of a JSON value: nothing read from the body can reach
// an error, so no secret can.
var badBodyMessages = regexp.MustCompile(`^malformed credentials body: (` + strings.Join([]string{
	`invalid JSON at byte [0-9]+`,
	`invalid JSON`,
	`not a JSON object`,
	`field (Code|AccessKeyId|AccessKeySecret|SecurityToken|Expiration|LastUpdated) is a JSON (string|number|bool|array|object), want a string`,
	`Code is not "Success"`,
	`AccessKeyId, AccessKeySecret or SecurityToken is empty`,
	`(Expiration|LastUpdated) is not in the layout 2006-01-02T15:04:05Z`,
}, "|") + `)$`)

// FuzzParseBody: ParseBody never panics; every error it returns is
// ErrBadBody with a message from the closed set badBodyMessages (so it
// quotes nothing from the body); and every body it accepts renders as
// helper output that decodes back to the same values.
func FuzzParseBody(f *testing.F) {
	for _, tc := range parseTests {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := credproc.ParseBody(in)
		if err != nil {
			if !errors.Is(err, credproc.ErrBadBody) || !badBodyMessages.MatchString(err.Error()) {
				t.Fatalf("error %q is not one of the fixed ErrBadBody messages", err)
			}
			return
		}
		var out map[string]string
		if err := json.Unmarshal(credproc.AppendOutput(nil, c), &out); err != nil {
			t.Fatalf("output of accepted body does not decode: %v", err)
		}
		if out["access_key_secret"] != c.AccessKeySecret.Reveal() || out["SecurityToken"] != c.SecurityToken.Reveal() ||
			out["AccessKeyId"] != c.AccessKeyID || out["expiration"] != out["Expiration"] {
			t.Fatalf("output %v does not match %#v", out, c)
		}
	})
}
