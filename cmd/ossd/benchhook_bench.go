//go:build ossd_bench

package main

import (
	"context"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
)

// benchHook, in a build with -tags ossd_bench (made only by ossd-bench
// scale), writes a heap profile to $OSSD_BENCH_HEAP_PROFILE on each
// SIGUSR1 until ctx ends, for the memory figures of BENCHMARKS.md, sampled
// every 4 KiB allocated on average (the default, 512 KiB, is too coarse to
// attribute a session's structures).
func benchHook(ctx context.Context, d *daemon) {
	path := os.Getenv("OSSD_BENCH_HEAP_PROFILE")
	if path == "" {
		return
	}
	runtime.MemProfileRate = 4096 // fine enough to attribute every structure of a session
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	go func() {
		defer signal.Stop(sig)
		for {
			select {
			case <-ctx.Done():
				return
			case <-sig:
				if err := writeHeapProfile(path); err != nil {
					d.log.Error("heap profile", "err", err)
				}
			}
		}
	}()
}

func writeHeapProfile(path string) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path) // the bench waits for the file to appear whole
}
