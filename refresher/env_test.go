package refresher_test

import (
	"testing"

	"github.com/ossd/ossd/internal/testenv"
)

var roleParams = testenv.Params

const testKeySecret = testenv.KeySecret

func newEnv(t *testing.T, secret string, roles ...string) *testenv.Env {
	t.Helper()
	return testenv.New(t, testenv.Options{Secret: secret}, roles...)
}
