package config_test

import (
	"regexp"
	"testing"

	"github.com/ossd/ossd/internal/config"
)

var (
	arnShape     = regexp.MustCompile(`^acs:ram::[0-9]+:role/[A-Za-z0-9._-]{1,64}$`)
	sessionShape = regexp.MustCompile(`^[A-Za-z0-9.@_-]{2,64}$`)
)

// FuzzValidRoleARN checks that whatever ValidRoleARN accepts has the shape
// STS accepts, and that it never panics.
func FuzzValidRoleARN(f *testing.F) {
	for _, s := range []string{"acs:ram::1234567890123456:role/oss-reader", "acs:ram::1:role/", "acs:ram:::role/x", "ACS:RAM::1:ROLE/x", "acs:ram::1:role/a/b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if config.ValidRoleARN(s) == nil && !arnShape.MatchString(s) {
			t.Fatalf("ValidRoleARN accepted %q", s)
		}
	})
}

// FuzzValidSessionName checks that whatever ValidSessionName accepts has
// the RoleSessionName shape STS accepts (2-64 of [A-Za-z0-9.@_-]), and that
// it never panics.
func FuzzValidSessionName(f *testing.F) {
	for _, s := range []string{"ossd-reader", "a", "a b", "user@example.com", "ünï", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if config.ValidSessionName(s) == nil && !sessionShape.MatchString(s) {
			t.Fatalf("ValidSessionName accepted %q", s)
		}
	})
}
