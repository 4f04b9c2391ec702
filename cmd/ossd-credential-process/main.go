// Command ossd-credential-process is the daemon mode of
// `ossd credential-process`, built as a binary of its own so that it starts
// fast: the OSS Go SDK v2 runs its process provider on every request. It
// links only the socket client and the output format, none of the STS SDK,
// the config parser or the metrics client that `ossd` starts up with.
//
//	ossd-credential-process --role NAME [--socket PATH] [--daemon-uid UID] [--session SUFFIX] [--timeout 10s]
//
// Its stdout is byte-for-byte that of `ossd credential-process`; direct
// mode (--direct) is only in `ossd`. Like it, it refuses a socket served by
// neither root nor the expected uid (internal/daemonid), exiting 3.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/credproc"
	"github.com/ossd/ossd/internal/daemonid"
	"github.com/ossd/ossd/internal/paths"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "ossd-credential-process:", err)
		if _, ok := errors.AsType[*daemonid.WrongDaemonError](err); ok {
			os.Exit(daemonid.ExitCode)
		}
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ossd-credential-process", flag.ContinueOnError)
	fs.SetOutput(stderr)
	role := fs.String("role", "", "role name, as configured in the daemon (required)")
	sock := fs.String("socket", "", "daemon socket (overrides $"+paths.EnvSocket+")")
	session := fs.String("session", "", "session suffix: a separate STS session named <session_name>-SUFFIX")
	timeout := fs.Duration("timeout", 10*time.Second, "give up after this long")
	daemonUID := fs.String("daemon-uid", "", "uid the daemon must run as, besides root (overrides $"+daemonid.EnvUID+"; default: your own uid)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *role == "" || fs.NArg() > 0 || *timeout <= 0 {
		return fmt.Errorf("usage: ossd-credential-process --role NAME [--socket PATH] [--daemon-uid UID] [--session SUFFIX] [--timeout D]")
	}
	want, err := daemonid.Parse(*daemonUID, os.Getenv)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	cl := credproc.Client{Socket: paths.Socket(*sock, "", os.Getenv, os.Geteuid()), Clock: clock.Real{}, Daemon: want}
	c, err := cl.Credentials(ctx, *role, *session)
	if err != nil {
		return fmt.Errorf("--role %s: %w", *role, err)
	}
	_, err = stdout.Write(credproc.AppendOutput(make([]byte, 0, 2048), c))
	return err
}
