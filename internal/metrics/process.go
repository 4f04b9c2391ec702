package metrics

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// process writes the metrics about the running binary: ossd_build_info, the
// config reload gauges, and the Go runtime and process metrics under the
// names the Prometheus client library's default collectors use (go_*,
// process_*), so that dashboards built for them work.
type process struct {
	build Build
	last  Reload
}

func (p *process) write(b []byte) []byte {
	b = header(b, "ossd_build_info", "Always 1; the labels say which build is running.", "gauge")
	b = sample(b, "ossd_build_info", []string{"goversion", "revision", "version"}, []string{p.build.GoVersion, p.build.Revision, p.build.Version}, "", "")
	b = append(b, "1\n"...)
	ok, at := p.last()
	b = gauge(b, "ossd_config_last_reload_success", "1 if the last load of the config file was applied, 0 if it was rejected (the previous config runs).", boolFloat(ok))
	var secs float64
	if !at.IsZero() {
		secs = float64(at.UnixNano()) / 1e9
	}
	b = gauge(b, "ossd_config_last_reload_timestamp_seconds", "Unix time of the last load of the config file, applied or rejected.", secs)
	b = writeGo(b)
	return writeProc(b)
}

// memStats are the go_memstats_* metrics: name, help, type, value.
var memStats = []struct {
	name, help, typ string
	v               func(*runtime.MemStats) float64
}{
	{"alloc_bytes", "Number of bytes allocated in heap and currently in use.", "gauge", func(s *runtime.MemStats) float64 { return float64(s.Alloc) }},
	{"alloc_bytes_total", "Total number of bytes allocated in heap until now, even if released already.", "counter", func(s *runtime.MemStats) float64 { return float64(s.TotalAlloc) }},
	{"sys_bytes", "Number of bytes obtained from system.", "gauge", func(s *runtime.MemStats) float64 { return float64(s.Sys) }},
	{"mallocs_total", "Total number of heap objects allocated.", "counter", func(s *runtime.MemStats) float64 { return float64(s.Mallocs) }},
	{"frees_total", "Total number of heap objects frees.", "counter", func(s *runtime.MemStats) float64 { return float64(s.Frees) }},
	{"heap_alloc_bytes", "Number of heap bytes allocated and currently in use.", "gauge", func(s *runtime.MemStats) float64 { return float64(s.HeapAlloc) }},
	{"heap_sys_bytes", "Number of heap bytes obtained from system.", "gauge", func(s *runtime.MemStats) float64 { return float64(s.HeapSys) }},
	{"heap_idle_bytes", "Number of heap bytes waiting to be used.", "gauge", func(s *runtime.MemStats) float64 { return float64(s.HeapIdle) }},
	{"heap_inuse_bytes", "Number of heap bytes that are in use.", "gauge", func(s *runtime.MemStats) float64 { return float64(s.HeapInuse) }},
	{"heap_released_bytes", "Number of heap bytes released to OS.", "gauge", func(s *runtime.MemStats) float64 { return float64(s.HeapReleased) }},
	{"heap_objects", "Number of currently allocated objects.", "gauge", func(s *runtime.MemStats) float64 { return float64(s.HeapObjects) }},
	{"stack_inuse_bytes", "Number of bytes obtained from system for stack allocator in non-CGO environments.", "gauge", func(s *runtime.MemStats) float64 { return float64(s.StackInuse) }},
	{"stack_sys_bytes", "Number of bytes obtained from system for stack allocator.", "gauge", func(s *runtime.MemStats) float64 { return float64(s.StackSys) }},
	{"mspan_inuse_bytes", "Number of bytes in use by mspan structures.", "gauge", func(s *runtime.MemStats) float64 { return float64(s.MSpanInuse) }},
	{"mspan_sys_bytes", "Number of bytes used for mspan structures obtained from system.", "gauge", func(s *runtime.MemStats) float64 { return float64(s.MSpanSys) }},
	{"mcache_inuse_bytes", "Number of bytes in use by mcache structures.", "gauge", func(s *runtime.MemStats) float64 { return float64(s.MCacheInuse) }},
	{"mcache_sys_bytes", "Number of bytes used for mcache structures obtained from system.", "gauge", func(s *runtime.MemStats) float64 { return float64(s.MCacheSys) }},
	{"buck_hash_sys_bytes", "Number of bytes used by the profiling bucket hash table.", "gauge", func(s *runtime.MemStats) float64 { return float64(s.BuckHashSys) }},
	{"gc_sys_bytes", "Number of bytes used for garbage collection system metadata.", "gauge", func(s *runtime.MemStats) float64 { return float64(s.GCSys) }},
	{"other_sys_bytes", "Number of bytes used for other system allocations.", "gauge", func(s *runtime.MemStats) float64 { return float64(s.OtherSys) }},
	{"next_gc_bytes", "Number of heap bytes when next garbage collection will take place.", "gauge", func(s *runtime.MemStats) float64 { return float64(s.NextGC) }},
	{"last_gc_time_seconds", "Number of seconds since 1970 of last garbage collection.", "gauge", func(s *runtime.MemStats) float64 { return float64(s.LastGC) / 1e9 }},
}

// writeGo appends the go_* metrics.
func writeGo(b []byte) []byte {
	b = gauge(b, "go_goroutines", "Number of goroutines that currently exist.", float64(runtime.NumGoroutine()))
	threads, _ := runtime.ThreadCreateProfile(nil) // with no room for records it only counts them
	b = gauge(b, "go_threads", "Number of OS threads created.", float64(threads))
	b = header(b, "go_info", "Information about the Go environment.", "gauge")
	b = sample(b, "go_info", []string{"version"}, []string{runtime.Version()}, "", "")
	b = append(b, "1\n"...)
	var gc debug.GCStats
	gc.PauseQuantiles = make([]time.Duration, 5) // min, 25%, 50%, 75%, max
	debug.ReadGCStats(&gc)
	b = header(b, "go_gc_duration_seconds", "A summary of the pause duration of garbage collection cycles.", "summary")
	for i, q := range []string{"0", "0.25", "0.5", "0.75", "1"} {
		b = sample(b, "go_gc_duration_seconds", nil, nil, "quantile", q)
		b = append(b, formatFloat(gc.PauseQuantiles[i].Seconds())+"\n"...)
	}
	b = append(b, "go_gc_duration_seconds_sum "+formatFloat(gc.PauseTotal.Seconds())+"\n"...)
	b = append(b, "go_gc_duration_seconds_count "+strconv.FormatInt(gc.NumGC, 10)+"\n"...)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	for _, s := range memStats {
		b = header(b, "go_memstats_"+s.name, s.help, s.typ)
		b = append(b, "go_memstats_"+s.name+" "+formatFloat(s.v(&ms))+"\n"...)
	}
	return b
}

// writeProc appends the process_* metrics that /proc/self gives; a value
// that cannot be read is left out.
func writeProc(b []byte) []byte {
	if st, ok := readStat(); ok {
		b = counterValue(b, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", st.cpu)
		b = gauge(b, "process_virtual_memory_bytes", "Virtual memory size in bytes.", st.vsize)
		b = gauge(b, "process_resident_memory_bytes", "Resident memory size in bytes.", st.rss)
		if boot, ok := bootTime(); ok {
			b = gauge(b, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.", boot+st.start)
		}
	}
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		b = gauge(b, "process_open_fds", "Number of open file descriptors.", float64(len(fds)))
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil {
		b = gauge(b, "process_max_fds", "Maximum number of open file descriptors.", float64(lim.Cur))
	}
	return b
}

// userHZ is the unit of the times in /proc/<pid>/stat (USER_HZ, 100 on
// every Linux architecture Go supports).
const userHZ = 100

type stat struct{ cpu, vsize, rss, start float64 }

// readStat reads /proc/self/stat: CPU seconds, virtual and resident bytes,
// and the start time in seconds after boot.
func readStat() (stat, bool) {
	raw, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return stat{}, false
	}
	i := strings.LastIndexByte(string(raw), ')') // the command name may hold spaces and parentheses
	if i < 0 {
		return stat{}, false
	}
	f := strings.Fields(string(raw[i+1:])) // f[0] is field 3, state
	if len(f) < 22 {
		return stat{}, false
	}
	num := func(field int) float64 {
		v, _ := strconv.ParseFloat(f[field-3], 64) // a malformed field reads as 0
		return v
	}
	return stat{
		cpu:   (num(14) + num(15)) / userHZ,
		start: num(22) / userHZ,
		vsize: num(23),
		rss:   num(24) * float64(os.Getpagesize()),
	}, true
}

// bootTime returns btime from /proc/stat: when the system booted, in Unix
// seconds.
func bootTime() (float64, bool) {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return n, err == nil
		}
	}
	return 0, false
}

func gauge(b []byte, name, help string, v float64) []byte {
	b = header(b, name, help, "gauge")
	return append(b, name+" "+formatFloat(v)+"\n"...)
}

func counterValue(b []byte, name, help string, v float64) []byte {
	b = header(b, name, help, "counter")
	return append(b, name+" "+formatFloat(v)+"\n"...)
}

func boolFloat(ok bool) float64 {
	if ok {
		return 1
	}
	return 0
}
