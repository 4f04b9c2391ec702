package peer

import (
	"os"
	"testing"
)

// BenchmarkTCP: one loopback TCP lookup of a helper's connection (as
// another user when root), end to end: sock_diag, the owner's fds, the
// holder's /proc entries, the pidfd checks.
func BenchmarkTCP(b *testing.B) {
	ln, err := listenTB(b)
	if err != nil {
		b.Fatal(err)
	}
	uid := -1
	if os.Geteuid() == 0 {
		uid = 4242
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
