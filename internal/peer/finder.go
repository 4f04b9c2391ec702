package peer

import (
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/ossd/ossd/internal/sockdiag"
)

// Finder identifies callers on Unix sockets ([Finder.Unix]) and loopback
// TCP ([Finder.TCP]). It is safe for concurrent use; Close releases its
// netlink socket.
type Finder struct {
	root  string         // procfs mount point
	diag  *sockdiag.Conn // nil: read /proc/net/tcp{,6}
	self  nsIDs          // ossd's own namespaces; zero if unreadable
	procs procTable
	held  inodeCache
	stats counters
	bufs  sync.Pool // of *[bufSize]byte
}

// Options configure a Finder.
type Options struct {
	Log *slog.Logger // nil: discard
}

// New returns a Finder. On a kernel without inet_diag it logs, once, that
// TCP callers are found through /proc/net/tcp.
func New(o Options) *Finder {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "peer")
	f := &Finder{root: "/proc"}
	diag, err := sockdiag.Open()
	switch {
	case err == nil:
		f.diag = diag
	case errors.Is(err, sockdiag.ErrUnsupported):
		log.Warn("sock_diag unavailable: TCP callers are found through /proc/net/tcp, whose cost grows with the host's sockets", "err", err)
	default:
		log.Warn("sock_diag not opened: TCP callers are found through /proc/net/tcp", "err", err)
	}
	if f.self, err = f.namespaces(f.root + "/self"); err != nil {
		log.Warn("own namespaces unreadable: exe and cgroups rules refuse callers unless allow.foreign_namespaces", "err", err)
	}
	return f
}

// Close releases the Finder's netlink socket and files. It is idempotent.
func (f *Finder) Close() error {
	f.procs.close()
	if f.diag == nil {
		return nil
	}
	return f.diag.Close()
}

// Stats counts a Finder's work since it was made.
type Stats struct {
	TCP    uint64 // TCP callers looked up
	Opened uint64 // entries under /proc/<pid> opened, read or stat'd for callers
	Owners uint64 // /proc/<pid> directories stat'd to learn a process's owner
	Scans  uint64 // listings of /proc
}

type counters struct {
	tcp, opened, owners, scans atomic.Uint64
}

// Stats returns the work done so far.
func (f *Finder) Stats() Stats {
	return Stats{TCP: f.stats.tcp.Load(), Opened: f.stats.opened.Load(), Owners: f.stats.owners.Load(), Scans: f.stats.scans.Load()}
}
