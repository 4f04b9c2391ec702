package paths

import "testing"

func TestSocket(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name             string
		flag, configured string
		env              map[string]string
		euid             int
		want             string
	}{
		{"flag wins", "/f.sock", "/c.sock", map[string]string{EnvSocket: "/e.sock"}, 0, "/f.sock"},
		{"env before config", "", "/c.sock", map[string]string{EnvSocket: "/e.sock"}, 1000, "/e.sock"},
		{"config", "", "/c.sock", nil, 1000, "/c.sock"},
		{"root", "", "", map[string]string{"XDG_RUNTIME_DIR": "/run/user/0"}, 0, "/run/ossd/ossd.sock"},
		{"user runtime dir", "", "", map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"}, 1000, "/run/user/1000/ossd/ossd.sock"},
		{"fallback", "", "", nil, 1000, "/tmp/ossd-1000/ossd.sock"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Socket(tc.flag, tc.configured, env(tc.env), tc.euid); got != tc.want {
				t.Errorf("Socket() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRuntimeDir(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		euid int
		want string
	}{
		{"systemd wins for root", map[string]string{EnvRuntimeDirectory: "/run/ossd-a", "XDG_RUNTIME_DIR": "/run/user/0"}, 0, "/run/ossd-a"},
		{"systemd wins for a user", map[string]string{EnvRuntimeDirectory: "/run/ossd", "XDG_RUNTIME_DIR": "/run/user/1000"}, 1000, "/run/ossd"},
		{"first of several", map[string]string{EnvRuntimeDirectory: "/run/ossd:/run/other"}, 1000, "/run/ossd"},
		{"root", map[string]string{"XDG_RUNTIME_DIR": "/run/user/0"}, 0, "/run/ossd"},
		{"user runtime dir", map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"}, 1000, "/run/user/1000/ossd"},
		{"none: never /tmp", nil, 1000, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(k string) string { return tc.env[k] }
			if got := RuntimeDir(getenv, tc.euid); got != tc.want {
				t.Errorf("RuntimeDir() = %q, want %q", got, tc.want)
			}
		})
	}
}
