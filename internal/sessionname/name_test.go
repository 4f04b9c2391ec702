package sessionname_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/sessionname"
)

// stsName is STS's RoleSessionName rule, written independently of the
// package.
var stsName = regexp.MustCompile(`^[A-Za-z0-9.@_-]{2,64}$`)

var nameTests = []struct {
	name, base, ident string
	want              string // "" = hashed: checked by shape
	prefix            string // for hashed names: what comes before "-<hash>"
}{
	{name: "uid", base: "ossd-reader", ident: "u4911", want: "ossd-reader-u4911"},
	{name: "unit", base: "ossd-reader", ident: "app.service", want: "ossd-reader-app.service"},
	{name: "user unit", base: "ossd-reader", ident: "app.service@u1000", want: "ossd-reader-app.service@u1000"},
	{name: "pod", base: "ossd-reader", ident: "0a1b2c3d-0000-4000-8000-00000000abcd", want: "ossd-reader-0a1b2c3d-0000-4000-8000-00000000abcd"},
	{name: "escaped unit", base: "ossd-reader", ident: `dev-disk-by\x2duuid.swap`, prefix: `ossd-reader-dev-disk-by_x2duuid.swap`},
	{name: "unicode", base: "ossd-r", ident: "ünit.service", prefix: "ossd-r-__nit.service"},
	{name: "too long", base: "ossd-reader", ident: strings.Repeat("x", 60), prefix: "ossd-reader-" + strings.Repeat("x", 35)},
	{name: "exactly 64", base: "ossd-reader", ident: strings.Repeat("y", 52), want: "ossd-reader-" + strings.Repeat("y", 52)},
	{name: "65", base: "ossd-reader", ident: strings.Repeat("y", 53), prefix: "ossd-reader-" + strings.Repeat("y", 35)},
	{name: "long base", base: strings.Repeat("b", 64), ident: "u1", prefix: strings.Repeat("b", 47)},
	{name: "looks hashed", base: "ossd-r", ident: "x-0123456789abcdef", prefix: "ossd-r-x-0123456789abcdef"},
	{name: "upper-case hex is plain", base: "ossd-r", ident: "x-0123456789ABCDEF", want: "ossd-r-x-0123456789ABCDEF"},
	{name: "empty", base: "", ident: "", prefix: "-"},
}

func TestName(t *testing.T) {
	hashed := regexp.MustCompile(`^(.*)-[0-9a-f]{16}$`)
	for _, tc := range nameTests {
		got := sessionname.Name(tc.base, tc.ident)
		if !stsName.MatchString(got) {
			t.Errorf("%s: Name(%q, %q) = %q, not a valid RoleSessionName", tc.name, tc.base, tc.ident, got)
		}
		if tc.want != "" {
			if got != tc.want {
				t.Errorf("%s: Name(%q, %q) = %q, want %q", tc.name, tc.base, tc.ident, got, tc.want)
			}
			continue
		}
		m := hashed.FindStringSubmatch(got)
		if m == nil || m[1] != tc.prefix {
			t.Errorf("%s: Name(%q, %q) = %q, want %q + \"-\" + 16 hex digits", tc.name, tc.base, tc.ident, got, tc.prefix)
		}
	}
}

// TestNameTruncationKeepsCallersApart: identities that agree on the part
// that fits, or that sanitise alike, still get different names.
func TestNameTruncationKeepsCallersApart(t *testing.T) {
	pairs := [][2]string{
		{strings.Repeat("x", 60) + "a", strings.Repeat("x", 60) + "b"},
		{"a/b.service", "a_b.service"},
		{"a b.service", "a/b.service"},
		{"x-0123456789abcdef", sessionname.Name("ossd-r", "x-0123456789abcdef")[len("ossd-r-"):]},
	}
	for _, p := range pairs {
		if a, b := sessionname.Name("ossd-r", p[0]), sessionname.Name("ossd-r", p[1]); a == b {
			t.Errorf("Name(%q) = Name(%q) = %q", p[0], p[1], a)
		}
	}
}

// FuzzName checks, for any base and two identities, the two promises of
// Name: the output is always a RoleSessionName STS accepts (2-64 of
// [A-Za-z0-9.@_-]), and for one base, distinct identities give distinct
// names.
func FuzzName(f *testing.F) {
	for _, tc := range nameTests {
		f.Add(tc.base, tc.ident, tc.ident+"x")
	}
	f.Add("ossd-r", "x-0123456789abcdef", "x-0123456789abcdef-7f1c8a4e9b2d3c51")
	f.Fuzz(func(t *testing.T, base, a, b string) {
		na, nb := sessionname.Name(base, a), sessionname.Name(base, b)
		if !stsName.MatchString(na) {
			t.Fatalf("Name(%q, %q) = %q: not a valid RoleSessionName", base, a, na)
		}
		if a != b && na == nb {
			t.Fatalf("Name(%q, %q) = Name(%q, %q) = %q", base, a, base, b, na)
		}
		if a == b && na != nb {
			t.Fatalf("Name(%q, %q) is not deterministic: %q, %q", base, a, na, nb)
		}
	})
}
