package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/credproc"
	"github.com/ossd/ossd/internal/envfmt"
	"github.com/ossd/ossd/internal/paths"
)

// envCmd prints one role's credentials for a shell or a dotenv file (or, in
// json, as the credential-process body). The values do not refresh: they
// are for tools that only read the environment.
func envCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("env", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var role, sock, session string
	daemon := roleFlags(fs, &role, &sock, &session) // exec.go
	format := fs.String("format", "sh", "sh | fish | dotenv | json")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	want, err := daemon()
	if err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usageError{fmt.Sprintf("env: unexpected argument %q", fs.Arg(0))}
	case role == "":
		return usageError{"env: --role NAME is required"}
	case *format != "json" && !slices.Contains(envfmt.Formats, *format):
		return usageError{fmt.Sprintf("env: unknown --format %q: want sh, fish, dotenv or json", *format)}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cl := credproc.Client{Socket: paths.Socket(sock, "", os.Getenv, os.Geteuid()), Clock: clock.Real{}, Daemon: want}
	c, err := cl.Credentials(ctx, role, session)
	if err != nil {
		return fmt.Errorf("env --role %s: %w", role, err)
	}
	var out []byte
	if *format == "json" {
		out = credproc.AppendOutput(nil, c)
	} else if out, err = envfmt.Append(nil, *format, c.Expiration, envfmt.Vars(c)); err != nil {
		return fmt.Errorf("env --role %s: %w", role, err)
	}
	_, err = stdout.Write(out)
	return err
}
