package peer

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// FuzzParseProcAddr feeds /proc/net/tcp address fields; a parsed address
// must render back to the same bytes.
func FuzzParseProcAddr(f *testing.F) {
	for _, s := range []string{"0100007F:1F90", "C8646464:0050", "00000000000000000000000001000000:0050", "zz:00", ":", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := parseProcAddr(s)
		if err != nil {
			return
		}
		if !a.Addr().IsValid() {
			t.Fatalf("parseProcAddr(%q) = invalid address without error", s)
		}
	})
}

// FuzzParseStatus feeds arbitrary text as /proc/<pid>/status and
// /proc/<pid>/cgroup: neither parser may panic, whatever a process (or a
// kernel we have not seen) puts there.
func FuzzParseStatus(f *testing.F) {
	f.Add("Gid:\t1\t2\t3\t4\nGroups:\t5 6\n")
	f.Add("Groups:\n")
	f.Add("Uid:\t0\t4242\t0\t0\n")
	f.Fuzz(func(t *testing.T, s string) {
		parseStatus(s)
		parseCgroup(s)
		if uids := parseUids(s); len(uids) > strings.Count(s, "Uid:")*len(s) {
			t.Fatalf("parseUids(%q) = %d uids", s, len(uids))
		}
	})
}

// FuzzParseDirents feeds getdents64 buffers: every name reported lies
// within the buffer and holds no NUL.
func FuzzParseDirents(f *testing.F) {
	ent := func(ino uint64, name string) []byte {
		b := make([]byte, 19+len(name)+1)
		binary.NativeEndian.PutUint64(b, ino)
		binary.NativeEndian.PutUint16(b[16:], uint16(len(b)))
		copy(b[19:], name)
		return b
	}
	f.Add(append(ent(1, "."), ent(42, "4242")...))
	f.Add(ent(7, ""))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		total := 0
		parseDirents(b, func(name []byte, ino uint64) {
			total += len(name)
			if len(name) == 0 || bytes.IndexByte(name, 0) >= 0 {
				t.Fatalf("name %q", name)
			}
		})
		if total > len(b) {
			t.Fatalf("names of %d bytes from %d", total, len(b))
		}
	})
}
