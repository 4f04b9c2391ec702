package config_test

import (
	"slices"
	"testing"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/config"
)

func roles(rs ...config.Role) *config.Config { return &config.Config{Roles: rs} }

func TestDiff(t *testing.T) {
	a := config.Role{Name: "a", ARN: "acs:ram::1111111111111111:role/a", SessionName: "ossd-a", Duration: config.Duration(time.Hour)}
	b := config.Role{Name: "b", ARN: "acs:ram::1111111111111111:role/b", SessionName: "ossd-b", Duration: config.Duration(time.Hour)}
	c := config.Role{Name: "c", ARN: "acs:ram::1111111111111111:role/c", SessionName: "ossd-c", Duration: config.Duration(time.Hour)}
	longer, withPolicy, otherARN := a, a, a
	longer.Duration = config.Duration(2 * time.Hour)
	withPolicy.Policy = `{"Version":"1","Statement":[{}]}`
	otherARN.ARN = "acs:ram::2222222222222222:role/a"
	tests := []struct {
		name                         string
		old, next                    *config.Config
		wantAdd, wantRemove, wantChg []string
	}{
		{"identical", roles(a, b), roles(b, a), nil, nil, nil},
		{"added", roles(a), roles(a, c, b), []string{"b", "c"}, nil, nil},
		{"removed", roles(a, b, c), roles(b), nil, []string{"a", "c"}, nil},
		{"duration changed", roles(a, b), roles(longer, b), nil, nil, []string{"a"}},
		{"policy changed", roles(a), roles(withPolicy), nil, nil, []string{"a"}},
		{"arn changed", roles(a), roles(otherARN), nil, nil, []string{"a"}},
		{"all at once", roles(a, b), roles(longer, c), []string{"c"}, []string{"b"}, []string{"a"}},
		{"from nil", nil, roles(b, a), []string{"a", "b"}, nil, nil},
		{"to nil", roles(a), nil, nil, []string{"a"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			add, rm, chg := config.Diff(tt.old, tt.next)
			if !slices.Equal(add, tt.wantAdd) || !slices.Equal(rm, tt.wantRemove) || !slices.Equal(chg, tt.wantChg) {
				t.Errorf("Diff() = %q, %q, %q, want %q, %q, %q", add, rm, chg, tt.wantAdd, tt.wantRemove, tt.wantChg)
			}
		})
	}
}

func TestRoleLookup(t *testing.T) {
	c := roles(config.Role{Name: "zeta"}, config.Role{Name: "alpha", ARN: "acs:ram::1111111111111111:role/x"}, config.Role{Name: "mid"})
	if got, want := c.RoleNames(), []string{"alpha", "mid", "zeta"}; !slices.Equal(got, want) {
		t.Errorf("RoleNames() = %q, want %q", got, want)
	}
	if r, ok := c.Role("alpha"); !ok || r.ARN != "acs:ram::1111111111111111:role/x" {
		t.Errorf("Role(alpha) = %+v, %v, want the alpha role", r, ok)
	}
	if r, ok := c.Role("beta"); ok {
		t.Errorf("Role(beta) = %+v, true, want false", r)
	}
}

func TestRoleParams(t *testing.T) {
	r := config.Role{Name: "n", ARN: "acs:ram::1111111111111111:role/x", SessionName: "s-n", Duration: config.Duration(90 * time.Minute),
		Policy: `{"Version":"1","Statement":[{}]}`, ExternalID: "ext"}
	want := ossd.Params{RoleARN: "acs:ram::1111111111111111:role/x", SessionName: "s-n", Policy: `{"Version":"1","Statement":[{}]}`,
		Duration: 90 * time.Minute, ExternalID: "ext"}
	if got := r.Params(); got != want {
		t.Errorf("Params() = %+v, want %+v", got, want)
	}
}
