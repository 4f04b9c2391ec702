package peer

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// fakeProc is a directory laid out like the parts of /proc the process
// table reads: loadavg and one directory per pid, owned as a process is.
type fakeProc struct {
	t    *testing.T
	root string
}

func (p fakeProc) loadavg(last int) {
	p.t.Helper()
	if err := os.WriteFile(filepath.Join(p.root, "loadavg"), []byte("0.00 0.01 0.05 1/3 "+strconv.Itoa(last)+"\n"), 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// proc creates (or replaces, as a new process with the same pid) pid owned
// by uid, with a status file whose Uid line is uids.
func (p fakeProc) proc(pid, uid int, uids string) {
	p.t.Helper()
	tmp := filepath.Join(p.root, "new")
	if err := os.Mkdir(tmp, 0o555|0o200); err != nil {
		p.t.Fatal(err)
	}
	if uids != "" {
		os.WriteFile(filepath.Join(tmp, "status"), []byte("Name:\tx\nUid:\t"+uids+"\n"), 0o444)
	}
	if err := os.Chown(tmp, uid, uid); err != nil {
		p.t.Fatal(err)
	}
	dir := filepath.Join(p.root, strconv.Itoa(pid))
	os.RemoveAll(dir) // after tmp exists: the new directory has another inode
	if err := os.Rename(tmp, dir); err != nil {
		p.t.Fatal(err)
	}
}

func TestProcTable(t *testing.T) {
	needRoot(t) // to give the directories owners
	p := fakeProc{t, t.TempDir()}
	p.proc(100, 4242, "")
	p.proc(101, 4243, "")
	p.proc(102, 0, "0\t4245\t0\t0") // not dumpable: root's in /proc, the user's in status
	os.Mkdir(filepath.Join(p.root, "self"), 0o755)
	p.loadavg(102)
	f := &Finder{root: p.root}
	want := func(uid uint32, full bool, pids ...int) {
		t.Helper()
		got, _ := f.owned(uid, full)
		got = slices.Sorted(slices.Values(got))
		if !slices.Equal(got, pids) {
			t.Errorf("owned(%d) = %v, want %v", uid, got, pids)
		}
	}
	stats := func(scans, owners uint64) {
		t.Helper()
		if s := f.Stats(); s.Scans != scans || s.Owners != owners {
			t.Errorf("stats = %d scans %d owner reads, want %d and %d", s.Scans, s.Owners, scans, owners)
		}
	}
	want(4242, false, 100)
	want(4245, false, 102)
	want(0, false, 102)
	stats(1, 4) // one listing; three stats and one status
	want(4243, false, 101)
	stats(1, 4) // no pid allocated since: no listing

	p.proc(100, 4243, "") // pid 100 reused by another user's process
	p.proc(103, 4242, "")
	p.loadavg(103)
	want(4242, false, 103)
	want(4243, false, 100, 101)
	stats(2, 6) // only the new processes were looked at

	// An owner changed in place (setuid): only a full refresh sees it, and
	// a full refresh is done once per generation.
	os.Chown(filepath.Join(p.root, "101"), 4242, 4242)
	want(4242, false, 103)
	want(4242, true, 101, 103)
	stats(3, 11)
	want(4242, true, 101, 103)
	stats(3, 11)
}
