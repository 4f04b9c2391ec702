package credproc_test

import (
	"testing"

	"github.com/ossd/ossd/internal/needs"
)

// TestMain prints a line per group of skipped tests (internal/needs).
func TestMain(m *testing.M) { needs.Main(m) }
