package clock

import (
	"testing"
	"time"
)

func TestFakeTimer(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	tm := f.NewTimer(time.Minute)
	f.Advance(59 * time.Second)
	select {
	case <-tm.C():
		t.Fatal("fired early")
	default:
	}
	f.Advance(time.Second)
	select {
	case at := <-tm.C():
		if !at.Equal(time.Unix(60, 0)) {
			t.Errorf("fired at %v", at)
		}
	default:
		t.Fatal("did not fire")
	}
	tm.Reset(time.Second)
	if !tm.Stop() {
		t.Error("Stop on an armed timer reported false")
	}
	f.Advance(time.Hour)
	select {
	case <-tm.C():
		t.Error("stopped timer fired")
	default:
	}
	tm.Reset(0)
	select {
	case <-tm.C():
	default:
		t.Error("Reset(0) did not fire at once")
	}
}
