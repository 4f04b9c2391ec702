package tokenstore_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/internal/tokenstore"
)

// TestRunSavesAfterFetchesAtMostEvery10s: the first fetch of a quiet spell
// is saved a second later; one made soon after waits until 10 s after that
// save, not longer.
func TestRunSavesAfterFetchesAtMostEvery10s(t *testing.T) {
	dir := t.TempDir()
	e := testenv.New(t, testenv.Options{}, "reader", "writer")
	s := open(t, e, dir, fp)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	}()

	reader := e.Get(testenv.Params("reader"))
	s.Issued(reader.AccessKeyID, fp)
	waitArmed(t, e)
	e.Clock.Advance(time.Second)
	waitSaved(t, dir, reader.AccessKeyID)

	writer := e.Get(testenv.Params("writer"))
	s.Issued(writer.AccessKeyID, fp)
	waitArmed(t, e)
	e.Clock.Advance(9 * time.Second) // the save timer is due 10 s after the last save
	if holds(dir, writer.AccessKeyID) {
		t.Fatal("saved again within 10 s of the last save")
	}
	e.Clock.Advance(time.Second)
	waitSaved(t, dir, writer.AccessKeyID)
}

// waitArmed waits until Run has set its save timer.
func waitArmed(t *testing.T, e *testenv.Env) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); e.Clock.Timers() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Run never armed its save timer")
		}
	}
}

func waitSaved(t *testing.T, dir, id string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !holds(dir, id); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("token %s never saved", id)
		}
	}
}

func holds(dir, id string) bool {
	b, err := os.ReadFile(filepath.Join(dir, tokenstore.FileName))
	return err == nil && strings.Contains(string(b), id)
}
