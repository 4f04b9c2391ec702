package execuri

import (
	"os"
	"testing"
)

func TestParseParent(t *testing.T) {
	tests := []struct {
		stat string
		want int
	}{
		{"42 (sleep) S 7 42 42 0 -1", 7},
		{"42 (a) b (c)) R 99 1 1", 99}, // the command name holds ") "
		{"42 (x y z) S 3 1", 3},        // and spaces
		{"42 sleep S 7", -1},           // no parentheses
		{"42 (sleep) S", -1},           // truncated
		{"42 (sleep) S notanumber 1", -1},
	}
	for _, tt := range tests {
		if got := parseParent(tt.stat); got != tt.want {
			t.Errorf("parseParent(%q) = %d, want %d", tt.stat, got, tt.want)
		}
	}
	if got := parentOf(os.Getpid()); got != os.Getppid() {
		t.Errorf("parentOf(self) = %d, want %d", got, os.Getppid())
	}
	if got := parentOf(1 << 30); got != -1 {
		t.Errorf("parentOf(no such pid) = %d, want -1", got)
	}
}
