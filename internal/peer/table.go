package peer

import (
	"bytes"
	"slices"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// procTable knows which uids own each process on the host: the owner of
// its /proc/<pid> directory, which is the effective uid; for a directory
// owned by root (a root process, or one that is not dumpable, as after a
// setuid without exec) the uids of the Uid line of /proc/<pid>/status. It
// is refreshed only when /proc/loadavg reports that a
// pid was allocated since the last refresh, and then stats only the
// processes it has not seen, so that a lookup's cost does not grow with the
// number of other users' processes. It holds one entry per process on the
// host.
//
// A process is known by its pid and the inode number of its /proc/<pid>
// directory, which getdents reports: procfs gives a new process a new
// inode, so a reused pid is never mistaken for the process that had it.
type procTable struct {
	mu    sync.Mutex       // guards the fields below
	owner map[int]procEnt  // by pid; nil before the first refresh
	byUID map[uint32][]int // owner -> pids, rebuilt on refresh
	last  int              // the last pid allocated at the last refresh; -1 if unknown
	gen   uint64           // incremented by every refresh
	full  uint64           // the generation of the last full refresh
	buf   []byte           // getdents buffer for /proc
	load  int              // /proc/loadavg, kept open; 0 until first read, -1 once closed
}

func (t *procTable) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.load > 0 {
		unix.Close(t.load)
	}
	t.load = -1
}

type procEnt struct {
	ino  uint64   // of /proc/<pid>
	uids []uint32 // distinct
}

// owned returns the pids that uid owns and the table's generation. full
// re-stats every process, for a lookup that found no holder: an owner
// learnt earlier may have changed since (setuid, exec). It does so at most
// once per generation, so that callers who hide their sockets cannot make
// every lookup cost a stat of every process.
func (f *Finder) owned(uid uint32, full bool) (pids []int, gen uint64) {
	t := &f.procs
	t.mu.Lock()
	defer t.mu.Unlock()
	last, err := f.lastPID(t)
	if err != nil {
		last = -1
	}
	full = full && t.full != t.gen
	if full || t.owner == nil || last < 0 || last != t.last {
		f.refresh(t, last, full)
	}
	return t.byUID[uid], t.gen
}

// refresh lists /proc and learns the owner of every process it has not
// seen (every process, if full).
func (f *Finder) refresh(t *procTable, last int, full bool) {
	dir, err := unix.Open(f.root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(dir)
	f.stats.scans.Add(1)
	if t.buf == nil {
		t.buf = make([]byte, 64<<10)
	}
	owner := make(map[int]procEnt, len(t.owner)+16)
	byUID := make(map[uint32][]int)
	err = readDir(dir, t.buf, func(name []byte, ino uint64) {
		pid, ok := atoi(name)
		if !ok {
			return
		}
		e, ok := t.owner[pid]
		if full || !ok || e.ino != ino {
			if e, ok = f.ownerOf(dir, pid); !ok {
				return // gone
			}
		}
		owner[pid] = e
		for _, u := range e.uids {
			byUID[u] = append(byUID[u], pid)
		}
	})
	if err != nil {
		return // keep the old table; the next lookup tries again
	}
	t.owner, t.byUID, t.last = owner, byUID, last
	t.gen++
	if full {
		t.full = t.gen
	}
}

// ownerOf learns who owns process pid, a name in the /proc directory dir.
func (f *Finder) ownerOf(dir, pid int) (procEnt, bool) {
	f.stats.owners.Add(1)
	name := strconv.Itoa(pid)
	var st unix.Stat_t
	if unix.Fstatat(dir, name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
		return procEnt{}, false
	}
	e := procEnt{ino: st.Ino, uids: []uint32{st.Uid}}
	if st.Uid != 0 {
		return e, true
	}
	f.stats.owners.Add(1)
	pd, err := unix.Openat(dir, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return e, true
	}
	defer unix.Close(pd)
	buf := f.buf()
	defer f.bufs.Put(buf)
	b, err := readFileAt(pd, "status", buf[:])
	if err != nil {
		return e, true
	}
	for _, u := range parseUids(string(b)) {
		if !slices.Contains(e.uids, u) {
			e.uids = append(e.uids, u)
		}
	}
	return e, true
}

// atoi parses a pid: decimal digits only.
func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// lastPID reads the last pid allocated in ossd's pid namespace, the last
// field of /proc/loadavg ("0.00 0.01 0.05 1/123 4567"). The file is kept
// open and read again from its start. Call it with t.mu held.
func (f *Finder) lastPID(t *procTable) (int, error) {
	if t.load < 0 {
		return -1, unix.EBADF
	}
	if t.load == 0 {
		fd, err := unix.Open(f.root+"/loadavg", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, err
		}
		t.load = fd
	}
	var buf [128]byte
	n, err := unix.Pread(t.load, buf[:], 0)
	if err != nil {
		return -1, err
	}
	line := bytes.TrimSpace(buf[:max(n, 0)])
	if i := bytes.LastIndexByte(line, ' '); i >= 0 {
		line = line[i+1:]
	}
	pid, ok := atoi(line)
	if !ok {
		return -1, unix.EINVAL
	}
	return pid, nil
}
