package peer

import "testing"

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
	f.Fuzz(func(t *testing.T, s string) {
		parseStatus(s)
		parseCgroup(s)
	})
}
