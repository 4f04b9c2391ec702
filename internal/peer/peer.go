package peer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// ErrUnknown is returned when the peer cannot be identified (not a local
// process, or it exited during the lookup).
var ErrUnknown = errors.New("peer not identified")

// Identity is who is calling. The zero value is an unidentified caller.
type Identity struct {
	Known  bool     // false when the peer could not be identified
	UID    uint32   // effective uid
	GID    uint32   // effective gid
	Groups []uint32 // supplementary groups
	PID    int32
	Exe    string // resolved path of the executable; "" if unreadable
	Cgroup string // the cgroup v2 path ("0::" line of /proc/<pid>/cgroup)
	Via    string // the listener that received the call, e.g. "socket"
}

// String renders the identity for logs and error messages.
func (id Identity) String() string {
	if !id.Known {
		return "unidentified caller"
	}
	return fmt.Sprintf("uid=%d gid=%d pid=%d exe=%s", id.UID, id.GID, id.PID, orDash(id.Exe))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// readProc fills Exe, Cgroup and Groups of id from procRoot/<pid> and
// returns the effective gid that /proc reports.
func readProc(procRoot string, id *Identity) (gid uint32) {
	dir := procRoot + "/" + strconv.Itoa(int(id.PID))
	if exe, err := os.Readlink(dir + "/exe"); err == nil {
		id.Exe = strings.TrimSuffix(exe, " (deleted)")
	}
	if b, err := os.ReadFile(dir + "/cgroup"); err == nil {
		id.Cgroup = parseCgroup(string(b))
	}
	if b, err := os.ReadFile(dir + "/status"); err == nil {
		gid, id.Groups = parseStatus(string(b))
	}
	return gid
}

// parseCgroup returns the cgroup v2 path, or the first hierarchy's path on
// a v1 system.
func parseCgroup(s string) string {
	first := ""
	for _, line := range strings.Split(s, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			return parts[2]
		}
		if first == "" {
			first = parts[2]
		}
	}
	return first
}

// parseStatus reads the real gid ("Gid:" line, first field) and the
// supplementary groups ("Groups:" line) of /proc/<pid>/status. The real
// gid, not the effective one: a process can exec a setgid program after it
// connected and before it is looked at.
func parseStatus(status string) (gid uint32, groups []uint32) {
	for _, line := range strings.Split(status, "\n") {
		if rest, ok := strings.CutPrefix(line, "Gid:"); ok {
			if f := strings.Fields(rest); len(f) >= 1 {
				g, _ := strconv.ParseUint(f[0], 10, 32) // 0 if malformed
				gid = uint32(g)
			}
		}
		if rest, ok := strings.CutPrefix(line, "Groups:"); ok {
			for _, f := range strings.Fields(rest) {
				if g, err := strconv.ParseUint(f, 10, 32); err == nil {
					groups = append(groups, uint32(g))
				}
			}
		}
	}
	return gid, groups
}

type ctxKey struct{}

// lazy computes an identity the first time it is asked for.
type lazy struct {
	once sync.Once
	find func() Identity
	id   Identity
}

// NewContext returns ctx carrying id.
func NewContext(ctx context.Context, id Identity) context.Context {
	l := &lazy{id: id}
	l.once.Do(func() {})
	return context.WithValue(ctx, ctxKey{}, l)
}

// NewLazyContext returns ctx carrying the identity find returns, computed
// once, when [FromContext] first asks. A connection whose requests never
// need the caller's identity (no role has rules) never pays for the lookup.
func NewLazyContext(ctx context.Context, find func() Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, &lazy{find: find})
}

// FromContext returns the identity in ctx, or an unidentified caller.
func FromContext(ctx context.Context) Identity {
	l, ok := ctx.Value(ctxKey{}).(*lazy)
	if !ok {
		return Identity{}
	}
	l.once.Do(func() { l.id = l.find() })
	return l.id
}
