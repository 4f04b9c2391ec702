package peer

import (
	"fmt"
	"slices"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// holder is the one process that holds a socket, and an fd it holds it by.
type holder struct {
	pid int
	fd  string // the fd's name under /proc/<pid>/fd
}

// findHolder returns the one process owned by uid with an fd open on
// socket inode. A socket held by several of them (passed on, or inherited
// across a fork) does not say which one is asking: that is ErrUnknown.
func (f *Finder) findHolder(uid uint32, inode uint64) (holder, error) {
	pids, gen := f.owned(uid, false)
	if h, ok := f.held.take(gen, inode); ok {
		return h, sharedErr(h, inode)
	}
	h := f.scan(pids, gen, inode)
	if h.pid == 0 {
		// No process known to uid holds it: an owner learnt earlier may have
		// changed since (setuid, exec). Look again at every process.
		pids, gen = f.owned(uid, true)
		h = f.scan(pids, gen, inode)
	}
	if h.pid == 0 {
		return holder{}, fmt.Errorf("%w: no process of uid %d holds socket inode %d", ErrUnknown, uid, inode)
	}
	return h, sharedErr(h, inode)
}

func sharedErr(h holder, inode uint64) error {
	if h.pid < 0 {
		return fmt.Errorf("%w: socket inode %d is held by more than one process", ErrUnknown, inode)
	}
	return nil
}

// scan reads the fds of pids and returns the holder of inode (pid 0 for
// none, -1 for several). Other sockets it sees are remembered for
// generation gen, so that a caller's other connections, already open, are
// found without a second scan.
//
// A process's fds are read from the highest (the newest, where a new
// connection usually is) down, and a process holding inode is read only
// down to that fd: a process counts once however many fds it holds a
// socket by, and a second holder ends the scan. The holder's sockets below
// that fd are then unknown, so only the sockets seen in the holder itself
// are remembered: any other might be shared with the part not read.
func (f *Finder) scan(pids []int, gen uint64, inode uint64) holder {
	found := map[uint64]holder{}
	var h holder
	for _, pid := range pids {
		seen, fd := f.sockets(pid, inode)
		for ino, fd := range seen {
			switch e, ok := found[ino]; {
			case !ok:
				found[ino] = holder{pid: pid, fd: fd}
			case e.pid != pid:
				found[ino] = holder{pid: -1}
			}
		}
		switch {
		case fd == "":
		case h.pid != 0:
			return holder{pid: -1} // several processes hold it; remember nothing
		default:
			h = holder{pid: pid, fd: fd}
		}
	}
	delete(found, inode)
	if h.pid > 0 {
		for ino, e := range found {
			if e.pid != h.pid {
				delete(found, ino)
			}
		}
	}
	f.held.put(gen, found)
	return h
}

// sockets returns the socket inodes pid has fds open on, each with one of
// those fds, reading from the highest fd down; if stop is among them, it
// stops there and also returns the fd that holds it.
func (f *Finder) sockets(pid int, stop uint64) (seen map[uint64]string, stopFD string) {
	dir, err := f.openDir(f.root + "/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		return nil, ""
	}
	defer unix.Close(dir)
	buf := f.buf()
	defer f.bufs.Put(buf)
	var fds []int
	readDir(dir, buf[:], func(name []byte, _ uint64) {
		if n, ok := atoi(name); ok {
			fds = append(fds, n)
		}
	})
	slices.Sort(fds)
	for i := len(fds) - 1; i >= 0; i-- {
		fd := strconv.Itoa(fds[i])
		ino, ok := f.socketAt(dir, fd)
		if !ok {
			continue
		}
		if ino == stop {
			return seen, fd
		}
		if seen == nil {
			seen = map[uint64]string{}
		}
		seen[ino] = fd
	}
	return seen, ""
}

// holdsAt reports whether h still has its fd open on socket inode; dir is
// h's /proc/<pid> directory.
func (f *Finder) holdsAt(dir int, h holder, inode uint64) bool {
	ino, ok := f.socketAt(dir, "fd/"+h.fd)
	return ok && ino == inode
}

// maxHeld bounds the sockets an inodeCache remembers.
const maxHeld = 4096

// inodeCache remembers, for one generation of the process table, which
// process held each socket seen in a scan. A new generation (a pid
// allocated since: perhaps a fork that now shares a socket) forgets them
// all. Entries are taken, not read: each connection is looked up once.
type inodeCache struct {
	mu  sync.Mutex // guards gen and m
	gen uint64
	m   map[uint64]holder
}

func (c *inodeCache) put(gen uint64, found map[uint64]holder) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen < c.gen {
		return
	}
	if gen > c.gen || c.m == nil {
		c.gen, c.m = gen, make(map[uint64]holder)
	}
	for ino, h := range found {
		if len(c.m) >= maxHeld {
			return
		}
		c.m[ino] = h
	}
}

func (c *inodeCache) take(gen uint64, inode uint64) (holder, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.m[inode]
	if !ok || gen != c.gen {
		return holder{}, false
	}
	delete(c.m, inode)
	return h, true
}
