package config

import (
	"strings"
	"testing"
)

func TestMetricsValidate(t *testing.T) {
	tests := []struct {
		m    Metrics
		want string // "" for valid
	}{
		{Metrics{}, ""},
		{Metrics{Listen: "127.0.0.1:9100"}, ""},
		{Metrics{Listen: "[::1]:9100"}, ""},
		{Metrics{Listen: "localhost:0"}, ""},
		{Metrics{Listen: "0.0.0.0:9100"}, "not a loopback address"},
		{Metrics{Listen: "0.0.0.0:9100", AllowNonLoopback: true}, ""},
		{Metrics{Listen: "9100"}, "want host:port"},
		{Metrics{Listen: "127.0.0.1:99999"}, "want 0..65535"},
	}
	for _, tc := range tests {
		var p problems
		tc.m.validate(&p)
		err := p.err()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: unexpected error %v", tc.m, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: error %v, want %q", tc.m, err, tc.want)
		}
	}
}
