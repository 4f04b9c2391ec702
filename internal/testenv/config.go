package testenv

import (
	"context"
	"fmt"
	"testing"

	"github.com/ossd/ossd/internal/access"
	"github.com/ossd/ossd/internal/config"
)

// SourceTOML returns the [source] and [sts] tables of a daemon config that
// assumes roles with the test source key at the local STS at endpoint (see
// StartSTS).
func SourceTOML(endpoint string) string {
	return fmt.Sprintf(`
[source]
type = "access_key"
access_key_id = %q
access_key_secret = %q
[sts]
region = "cn-hangzhou"
endpoint = %q
`, KeyID, KeySecret, endpoint)
}

// Guarded returns an Env serving role "reader", open to anyone, and role
// "guarded", allowed to uid only, both applied and fetched.
func Guarded(t testing.TB, uid uint32) *Env {
	t.Helper()
	env := New(t, Options{}, "reader", "guarded")
	roles := Roles("reader", "guarded")
	rule, err := access.Compile(config.Allow{UIDs: []uint32{uid}}, access.System())
	if err != nil {
		t.Fatal(err)
	}
	roles[1].Allow = rule
	if errs := env.Service.Apply(context.Background(), roles); len(errs) > 0 {
		t.Fatal(errs)
	}
	return env
}
