package main

import (
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
)

func TestStateDir(t *testing.T) {
	tests := []struct {
		name       string
		configured string
		env        map[string]string
		euid       int
		want       string
	}{
		{"configured wins", "/srv/ossd", map[string]string{"STATE_DIRECTORY": "/var/lib/x"}, 0, "/srv/ossd"},
		{"systemd StateDirectory", "", map[string]string{"STATE_DIRECTORY": "/var/lib/ossd:/var/lib/other", "HOME": "/home/u"}, 1000, "/var/lib/ossd"},
		{"root", "", map[string]string{"HOME": "/root"}, 0, "/var/lib/ossd"},
		{"XDG_STATE_HOME", "", map[string]string{"XDG_STATE_HOME": "/home/u/.st", "HOME": "/home/u"}, 1000, "/home/u/.st/ossd"},
		{"HOME", "", map[string]string{"HOME": "/home/u"}, 1000, "/home/u/.local/state/ossd"},
		{"nothing", "", nil, 1000, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := stateDir(tc.configured, func(k string) string { return tc.env[k] }, tc.euid)
			if got != tc.want || (err != nil) != (tc.want == "") {
				t.Errorf("stateDir = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestListenHint(t *testing.T) {
	for err, want := range map[error]string{
		&net.OpError{Op: "listen", Err: syscall.EACCES}:        "CAP_NET_BIND_SERVICE",
		&net.OpError{Op: "listen", Err: syscall.EADDRNOTAVAIL}: "ip addr add 100.100.100.200/32 dev lo",
		errors.New("other"): "",
	} {
		if got := listenHint(err); want == "" && got != "" || !strings.Contains(got, want) {
			t.Errorf("listenHint(%v) = %q, want it to mention %q", err, got, want)
		}
	}
}

// TestTakeInherited: a listener systemd passed under ossd-metadata is used
// for the [[metadata]] entry with its address, and only for that one.
func TestTakeInherited(t *testing.T) {
	a, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	d := &daemon{inherited: map[string][]net.Listener{"ossd-metadata": {a, b}}}
	if got := d.takeInherited("ossd-metadata", "127.0.0.1:1"); got != nil {
		t.Errorf("took %v for another port", got.Addr())
	}
	if got := d.takeInherited("", b.Addr().String()); got != nil {
		t.Error("took a listener without a name")
	}
	if got := d.takeInherited("ossd-metadata", b.Addr().String()); got != b {
		t.Errorf("took %v, want %v", got, b.Addr())
	}
	if got := d.takeInherited("ossd-metadata", a.Addr().String()); got != a {
		t.Errorf("took %v, want %v", got, a.Addr())
	}
	if len(d.inherited) != 0 {
		t.Errorf("left %v", d.inherited)
	}
}
