package peer

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkTCP: one loopback TCP lookup of a helper's connection (as
// another user when root), end to end: sock_diag, the owner's fds, the
// holder's /proc entries, the pidfd checks.
func BenchmarkTCP(b *testing.B) { benchTCP(b) }

// BenchmarkTCPOtherUserFDs is BenchmarkTCP while another user holds
// 100,000 fds (in as few processes as RLIMIT_NOFILE allows).
func BenchmarkTCPOtherUserFDs(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root to hold fds as another user")
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatal(err)
	}
	per := int(lim.Max) - 64
	for n := 100_000; n > 0; n -= per {
		spawn(b, helper{hold: min(n, per), uid: 4626})
	}
	benchTCP(b)
}

func benchTCP(b *testing.B) {
	ln, err := listenTB(b)
	if err != nil {
		b.Fatal(err)
	}
	uid := -1
	if os.Geteuid() == 0 {
		uid = 4625
	}
	spawn(b, helper{dial: ln.Addr().String(), uid: uid})
	c, err := ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	f := newFinder(b)
	client, server := remoteLocal(c)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.TCP(client, server); err != nil {
			b.Fatal(err)
		}
	}
}
