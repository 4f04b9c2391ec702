package version

import (
	"runtime/debug"
	"strings"
)

// Info is what the binary knows about its own build.
type Info struct {
	Version   string // module version, e.g. v0.2.0; "(devel)" for a build of a work tree
	Revision  string // VCS commit, or "unknown" (built with -buildvcs=false, or outside a repository)
	Time      string // VCS commit time, RFC 3339, or ""
	Modified  bool   // the work tree had uncommitted changes
	GoVersion string // the toolchain that built the binary, e.g. go1.26.8
}

// Get returns the build info of the running binary.
func Get() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: "unknown", Revision: "unknown", GoVersion: "unknown"}
	}
	return FromBuildInfo(bi)
}

// FromBuildInfo extracts an Info from bi.
func FromBuildInfo(bi *debug.BuildInfo) Info {
	in := Info{Version: bi.Main.Version, Revision: "unknown", GoVersion: bi.GoVersion}
	if in.Version == "" {
		in.Version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			in.Revision = s.Value
		case "vcs.time":
			in.Time = s.Value
		case "vcs.modified":
			in.Modified = s.Value == "true"
		}
	}
	return in
}

// String renders in on one line, e.g.
// "ossd v0.2.0 (revision 1a2b3c4d5e6f, 2030-01-01T00:00:00Z, modified) go1.26.8".
func (in Info) String() string {
	var b strings.Builder
	b.WriteString("ossd ")
	b.WriteString(in.Version)
	b.WriteString(" (revision ")
	b.WriteString(in.ShortRevision())
	if in.Time != "" {
		b.WriteString(", ")
		b.WriteString(in.Time)
	}
	if in.Modified {
		b.WriteString(", modified")
	}
	b.WriteString(") ")
	b.WriteString(in.GoVersion)
	return b.String()
}

// ShortRevision returns the first 12 characters of Revision.
func (in Info) ShortRevision() string {
	if len(in.Revision) > 12 {
		return in.Revision[:12]
	}
	return in.Revision
}
