package localsts

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestPercentEncode(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"AZaz09-_.~", "AZaz09-_.~"},
		{"a b", "a%20b"},
		{"*", "%2A"},
		{"+/=&", "%2B%2F%3D%26"},
		{"é", "%C3%A9"},
		{"%", "%25"},
	} {
		if got := percentEncode(tc.in); got != tc.want {
			t.Errorf("percentEncode(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestStringToSign(t *testing.T) {
	// "Ab" sorts before "Ab-c" by name, though "Ab-c=" < "Ab=" as pairs.
	p := url.Values{"Ab-c": {"2"}, "Ab": {"1"}, "Signature": {"x"}, "E": {""}, "B": {"a b*"}}
	want := "POST&%2F&" + percentEncode("Ab=1&Ab-c=2&B=a%20b%2A&E=")
	if got := stringToSign("POST", p); got != want {
		t.Errorf("stringToSign = %q, want %q", got, want)
	}
	q := url.Values{"A": {"x y"}, "B": {"~*+"}, "Signature": {"ignored"}}
	if got, want := sign("secret", stringToSign("GET", q)), testSign("GET", "secret", q); got != want {
		t.Errorf("sign = %s, test signer = %s", got, want)
	}
}

func TestValidators(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   func(string) bool
		in   string
		want bool
	}{
		{"arn", arnOK, "acs:ram::123:role/a.b-c_d", true},
		{"arn upper prefix", arnOK, "ACS:ram::123:role/a", false},
		{"arn no account", arnOK, "acs:ram:::role/a", false},
		{"arn no name", arnOK, "acs:ram::1:role/", false},
		{"arn path", arnOK, "acs:ram::1:role/a/b", false},
		{"arn name 65", arnOK, "acs:ram::1:role/" + strings.Repeat("n", 65), false},
		{"session ok", validSessionName, "ab", true},
		{"session slash", validSessionName, "a/b", false},
		{"policy ok", validPolicy, `{"Version":"1","Statement":[{}]}`, true},
		{"policy null", validPolicy, `null`, false},
		{"policy array", validPolicy, `[]`, false},
		{"policy version number", validPolicy, `{"Version":1,"Statement":[{}]}`, false},
		{"policy lower-case keys", validPolicy, `{"version":"1","statement":[{}]}`, false},
		{"policy null statement", validPolicy, `{"Version":"1","Statement":[null]}`, false},
		{"policy statement object", validPolicy, `{"Version":"1","Statement":{}}`, false},
		{"policy trailing junk", validPolicy, `{"Version":"1","Statement":[{}]}x`, false},
		{"external id", validExternalID, "ab", true},
	} {
		if got := tc.fn(tc.in); got != tc.want {
			t.Errorf("%s: (%q) = %v, want %v", tc.name, tc.in, got, tc.want)
		}
	}
}

func arnOK(s string) bool { _, _, ok := parseRoleArn(s); return ok }

func TestNonceCache(t *testing.T) {
	c := newNonceCache()
	now := t0()
	if !c.add("a", now) || c.add("a", now.Add(time.Minute)) {
		t.Fatal("add: first must succeed, repeat must fail")
	}
	c.add("b", now.Add(10*time.Minute))
	c.add("c", now.Add(nonceTTL)) // prunes "a"
	if c.has("a") || !c.has("b") || c.len() != 2 {
		t.Errorf("after TTL: has(a)=%v has(b)=%v len=%d; want false true 2", c.has("a"), c.has("b"), c.len())
	}
	if !c.add("a", now.Add(nonceTTL)) {
		t.Error("a forgotten nonce could not be added again")
	}
}

func TestAddRolePanics(t *testing.T) {
	s := New(Config{})
	for _, tc := range []struct {
		arn string
		max time.Duration
	}{{"role/x", time.Hour}, {s.RoleARN("x"), 59 * time.Minute}, {s.RoleARN("x"), 12*time.Hour + time.Second}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("AddRole(%q, %v) did not panic", tc.arn, tc.max)
				}
			}()
			s.AddRole(tc.arn, tc.max)
		}()
	}
}

// FuzzParsers: percentEncode's output decodes back to its input and holds
// only unreserved characters and escapes (SPEC §6); parseRoleArn accepts
// only what it can render back to the same ARN; and no parameter checker
// panics on any input.
func FuzzParsers(f *testing.F) {
	for _, s := range []string{"", "acs:ram::1:role/x", `{"Version":"1","Statement":[{}]}`, "a b*~é", "%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc := percentEncode(s)
		if dec, err := url.PathUnescape(enc); err != nil || dec != s {
			t.Errorf("percentEncode(%q) = %q does not decode back", s, enc)
		}
		if strings.Trim(enc, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~%") != "" {
			t.Errorf("percentEncode(%q) = %q has reserved characters", s, enc)
		}
		if acct, name, ok := parseRoleArn(s); ok && "acs:ram::"+acct+":role/"+name != s {
			t.Errorf("parseRoleArn(%q) = %q, %q", s, acct, name)
		}
		validPolicy(s)
		validSessionName(s)
		validExternalID(s)
	})
}
