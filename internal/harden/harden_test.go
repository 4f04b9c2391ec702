package harden

import (
	"os"
	"os/exec"
	"testing"
)

// TestProcess hardens a child copy of the test binary (hardening is
// one-way, so not this process) and checks the result from inside it.
func TestProcess(t *testing.T) {
	if os.Getenv("HARDEN_CHILD") == "1" {
		if err := Process(); err != nil {
			t.Fatal(err)
		}
		if d, err := Dumpable(); err != nil || d {
			t.Fatalf("Dumpable = %v, %v after Process", d, err)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestProcess$")
	cmd.Env = append(os.Environ(), "HARDEN_CHILD=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if d, err := Dumpable(); err != nil || !d {
		t.Errorf("the test process itself should still be dumpable: %v %v", d, err)
	}
}
