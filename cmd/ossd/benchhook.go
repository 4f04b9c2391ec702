//go:build !ossd_bench

package main

import "context"

// benchHook does nothing outside a build with -tags ossd_bench
// (benchhook_bench.go).
func benchHook(context.Context, *daemon) {}
