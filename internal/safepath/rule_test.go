package safepath

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

// The rule as a table: who owns a component, its type and mode, and whether
// ossd (uid 1000 here, or root) accepts it.
func TestDirRule(t *testing.T) {
	const dir = fs.ModeDir
	tests := []struct {
		name string
		self uint32
		e    entry
		want string // part of the reason, "" = accepted
	}{
		{"root 0755", 1000, entry{0, dir | 0o755}, ""},
		{"ours 0700", 1000, entry{1000, dir | 0o700}, ""},
		{"ours 0755", 1000, entry{1000, dir | 0o755}, ""},
		{"root tmp 1777", 1000, entry{0, dir | fs.ModeSticky | 0o777}, ""},
		{"root sticky group-writable 1775", 1000, entry{0, dir | fs.ModeSticky | 0o775}, ""},
		{"another user's 0755", 1000, entry{4701, dir | 0o755}, "is not owned by root"},
		{"another user's 0700", 0, entry{4701, dir | 0o700}, "is not owned by root"},
		{"another user's sticky 1777", 1000, entry{4701, dir | fs.ModeSticky | 0o777}, "is not owned by root"},
		{"root 0777 without sticky", 1000, entry{0, dir | 0o777}, "writable by group or others"},
		{"root 0775 group-writable", 1000, entry{0, dir | 0o775}, "writable by group or others"},
		{"ours 0770", 1000, entry{1000, dir | 0o770}, "writable by group or others"},
		{"ours sticky 1777, not root's", 1000, entry{1000, dir | fs.ModeSticky | 0o777}, "writable by group or others"},
		{"root's symbolic link", 1000, entry{0, fs.ModeSymlink | 0o777}, "symbolic link"},
		{"a regular file", 1000, entry{1000, 0o600}, "not a directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := Checker{UID: tc.self}.dirProblem("/x", tc.e)
			checkProblem(t, u, tc.want)
		})
	}
}

func TestFileRule(t *testing.T) {
	tests := []struct {
		name string
		self uint32
		e    entry
		want string
	}{
		{"ours 0600", 1000, entry{1000, 0o600}, ""},
		{"ours 0400", 1000, entry{1000, 0o400}, ""},
		{"root's, as root", 0, entry{0, 0o600}, ""},
		{"ours 0644", 1000, entry{1000, 0o644}, "permission bits for group or others"},
		{"ours 0620", 1000, entry{1000, 0o620}, "permission bits for group or others"},
		{"ours 0601", 1000, entry{1000, 0o601}, "permission bits for group or others"},
		{"root's, as uid 1000", 1000, entry{0, 0o600}, "is not owned by ossd's own uid 1000"},
		{"another user's, as root", 0, entry{4701, 0o600}, "is not owned by root (ossd's own uid)"},
		{"a symbolic link", 0, entry{4701, fs.ModeSymlink | 0o777}, "symbolic link"},
		{"a FIFO", 0, entry{0, fs.ModeNamedPipe | 0o600}, "not a regular file"},
		{"a device", 0, entry{0, fs.ModeDevice | fs.ModeCharDevice | 0o600}, "not a regular file"},
		{"a directory", 0, entry{0, fs.ModeDir | 0o700}, "not a regular file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkProblem(t, Checker{UID: tc.self}.fileProblem("/x", tc.e), tc.want)
		})
	}
}

func TestEntryRule(t *testing.T) {
	c := Checker{UID: 1000}
	checkProblem(t, c.entryProblem("/x", entry{1000, fs.ModeSocket | 0o600}), "")
	checkProblem(t, c.entryProblem("/x", entry{0, fs.ModeSocket | 0o666}), "")
	checkProblem(t, c.entryProblem("/x", entry{4701, fs.ModeSocket | 0o600}), "is not owned by root")
	checkProblem(t, c.entryProblem("/x", entry{0, fs.ModeSymlink | 0o777}), "symbolic link")
}

func checkProblem(t *testing.T, u *UnsafeError, want string) {
	t.Helper()
	if want == "" {
		if u != nil {
			t.Fatalf("refused: %v", u)
		}
		return
	}
	if u == nil {
		t.Fatalf("accepted, want a refusal: %s", want)
	}
	if !strings.Contains(u.Reason, want) {
		t.Errorf("reason = %q, want it to say %q", u.Reason, want)
	}
	if !errors.Is(u, ErrUnsafe) {
		t.Error("the refusal does not match ErrUnsafe")
	}
	if msg := u.Error(); !strings.HasPrefix(msg, fmt.Sprintf("/x (owner uid %d", u.UID)) || !strings.Contains(msg, "mode ") || u.Fix == "" {
		t.Errorf("message %q does not name the path, owner and mode, or say what to do", msg)
	}
}

func TestModeText(t *testing.T) {
	for m, want := range map[fs.FileMode]string{
		fs.ModeDir | fs.ModeSticky | 0o777: "1777",
		fs.ModeDir | 0o755:                 "0755",
		0o644:                              "0644",
		fs.ModeSymlink | 0o777:             "0777",
		fs.ModeSocket | 0o600:              "0600, socket",
	} {
		if got := modeText(m); got != want {
			t.Errorf("modeText(%v) = %q, want %q", m, got, want)
		}
	}
}
