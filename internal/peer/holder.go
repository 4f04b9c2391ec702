package peer

import (
	"fmt"
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
// none, -1 for several). Every other socket it sees is remembered for
// generation gen, so that a caller's other connections, already open, are
// found without a second scan.
func (f *Finder) scan(pids []int, gen uint64, inode uint64) holder {
	found := map[uint64]holder{}
	for _, pid := range pids {
		for ino, fd := range f.sockets(pid) {
			h, seen := found[ino]
			switch {
			case !seen:
				found[ino] = holder{pid: pid, fd: fd}
			case h.pid != pid:
				found[ino] = holder{pid: -1}
			}
		}
	}
	h := found[inode]
	delete(found, inode)
	f.held.put(gen, found)
	return h
}

// sockets returns the socket inodes pid has fds open on, each with one of
// those fds.
func (f *Finder) sockets(pid int) map[uint64]string {
	dir, err := f.openDir(f.root + "/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		return nil
	}
	defer unix.Close(dir)
	buf := f.buf()
	defer f.bufs.Put(buf)
	var out map[uint64]string
	readDir(dir, buf[:], func(name []byte, _ uint64) {
		if name[0] == '.' {
			return
		}
		fd := string(name)
		if ino, ok := f.socketAt(dir, fd); ok {
			if out == nil {
				out = map[uint64]string{}
			}
			if _, dup := out[ino]; !dup {
				out[ino] = fd
			}
		}
	})
	return out
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
