// Command ossd-bench measures a running ossd under load against the
// practical limit: a bare net/http server, run as a separate process,
// serving the same bytes over the same transport.
//
// Usage:
//
//	ossd-bench [flags]        build and start ossd serve --dev, run the matrix, print the ratios
//	ossd-bench --socket PATH  measure a daemon that is already running
//	ossd-bench scale [flags]  memory and start-up figures of the real daemon against a local STS
//	ossd-bench fleet [flags]  a simulated fleet of daemons on one account's AssumeRole limit
//	ossd-bench helper [flags] whole runs of the credential helpers against the floor program
//
// Run it from the module: go run ./cmd/ossd-bench. See BENCHMARKS.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ossd-bench:", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a command-line mistake; it exits 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case limitServerCmd: // hidden: the limit server, started by the matrix
			return limitServer(ctx, args[1:], stdin, stdout, stderr)
		case "scale":
			return scale(ctx, args[1:], stdout, stderr)
		case "fleet":
			return fleetCmd(ctx, args[1:], stdout, stderr)
		case "helper":
			return helper(ctx, args[1:], stdout, stderr)
		}
	}
	return matrix(ctx, args, stdout, stderr)
}
