package execuri

import (
	"os"
	"strconv"
	"strings"
)

// parentOf returns the parent pid of pid from /proc/<pid>/stat, or -1 if it
// cannot be read (no such process, or not in this pid namespace).
func parentOf(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	return parseParent(string(b))
}

// parseParent reads the ppid from a /proc/<pid>/stat line: "pid (comm)
// state ppid ...". The command name may hold spaces and parentheses, so
// the fields start after the last ')'.
func parseParent(stat string) int {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 2 {
		return -1
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return -1
	}
	return ppid
}
