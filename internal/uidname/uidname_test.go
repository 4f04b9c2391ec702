package uidname_test

import (
	"testing"

	"github.com/ossd/ossd/internal/uidname"
)

func TestString(t *testing.T) {
	if got := uidname.String(0); got != "uid 0 (root)" {
		t.Errorf("String(0) = %q, want uid 0 (root)", got)
	}
	if got := uidname.String(4701); got != "uid 4701" {
		t.Errorf("String(4701) = %q, want uid 4701 (no such user here)", got)
	}
}
