package version_test

import (
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/ossd/ossd/internal/version"
)

func TestFromBuildInfo(t *testing.T) {
	tests := []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"release", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.2.0"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2030-01-01T00:00:00Z"}, {Key: "vcs.modified", Value: "false"},
		}}, "ossd v0.2.0 (revision 0123456789ab, 2030-01-01T00:00:00Z) go1.26.8"},
		{"modified tree", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "true"},
		}}, "ossd (devel) (revision abc, modified) go1.26.8"},
		{"no vcs", debug.BuildInfo{GoVersion: "go1.26.8"}, "ossd (devel) (revision unknown) go1.26.8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := version.FromBuildInfo(&tc.bi).String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestGetIsThisBinary(t *testing.T) {
	if got := version.Get().GoVersion; got != runtime.Version() {
		t.Errorf("GoVersion = %q, want %q", got, runtime.Version())
	}
}
