package daemonid_test

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/daemonid"
	"github.com/ossd/ossd/internal/testenv"
)

func TestParse(t *testing.T) {
	self := uint32(os.Geteuid())
	tests := []struct {
		flag, env string
		want      uint32
		err       string
	}{
		{"", "", self, ""},
		{"1001", "", 1001, ""},
		{"", "1001", 1001, ""},
		{"0", "1001", 0, ""},
		{"1001", "junk", 1001, ""}, // the flag wins; the variable is not read
		{"ossd", "", 0, `--daemon-uid "ossd": want a numeric uid`},
		{"", "-1", 0, `$OSSD_DAEMON_UID "-1": want a numeric uid`},
		{"4294967295", "", 0, "want a numeric uid"},
		{"4294967296", "", 0, "want a numeric uid"},
	}
	for _, tc := range tests {
		w, err := daemonid.Parse(tc.flag, func(k string) string {
			if k != daemonid.EnvUID {
				t.Errorf("Parse read $%s", k)
			}
			return tc.env
		})
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("Parse(%q, %q) = %v, want error %q", tc.flag, tc.env, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("Parse(%q, %q): %v", tc.flag, tc.env, err)
		case tc.err == "" && w.Expected() != tc.want:
			t.Errorf("Parse(%q, %q).Expected() = %d, want %d", tc.flag, tc.env, w.Expected(), tc.want)
		}
	}
}

// dial connects to the listener at path.
func dial(t *testing.T, path string) *net.UnixConn {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.UnixConn)
}

// A daemon of one's own uid is accepted by default; as root, only root's.
func TestCheckOwnDaemon(t *testing.T) {
	path := testenv.SocketPath(t)
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c := dial(t, path)
	if uid, err := daemonid.PeerUID(c); err != nil || uid != uint32(os.Geteuid()) {
		t.Fatalf("PeerUID = %d, %v; want %d", uid, err, os.Geteuid())
	}
	if err := daemonid.Check(c, path, daemonid.Want{}); err != nil {
		t.Errorf("own daemon refused: %v", err)
	}
	if os.Geteuid() == 0 {
		return // root's listener passes every Want
	}
	other := uint32(os.Geteuid() + 1)
	err = daemonid.Check(c, path, daemonid.UID(other))
	var wd *daemonid.WrongDaemonError
	if !errors.As(err, &wd) || wd.UID != uint32(os.Geteuid()) || wd.Want != other {
		t.Errorf("Check against --daemon-uid %d = %v, want a WrongDaemonError", other, err)
	}
}

// Issue 12, point 1: a listener of another user at the daemon's path is
// refused, whatever it would answer.
func TestCheckRefusesAnotherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a listener as another uid")
	}
	dir := testenv.PublicDir(t)
	os.Chown(dir, testenv.Attacker, testenv.Attacker)
	path := filepath.Join(dir, "ossd.sock")
	testenv.StartAttacker(t, testenv.Layout{Socket: path})
	for _, w := range []daemonid.Want{{}, daemonid.UID(0), daemonid.UID(1000)} {
		err := daemonid.Check(dial(t, path), path, w)
		var wd *daemonid.WrongDaemonError
		if !errors.As(err, &wd) || wd.UID != testenv.Attacker {
			t.Fatalf("Check(%+v) = %v, want a WrongDaemonError naming uid %d", w, err, testenv.Attacker)
		}
		for _, want := range []string{"socket " + path + " is served by uid 4701, not root", "--daemon-uid 4701", "OSSD_DAEMON_UID=4701"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("message %q lacks %q", err, want)
			}
		}
	}
	if err := daemonid.Check(dial(t, path), path, daemonid.UID(testenv.Attacker)); err != nil {
		t.Errorf("--daemon-uid 4701 still refused: %v", err)
	}
}
