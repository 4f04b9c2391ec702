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

const (
	envSynopsis = "ossd env --role NAME [--session SUFFIX] [--format sh|fish|dotenv|json] [--socket PATH]"
	envAbout    = `Prints one role's credentials once, for a shell (eval "$(ossd env --role NAME)"),
fish, a dotenv file, or as the credential-process JSON. The values do not
refresh; prefer ossd exec for anything that runs longer than the token.`
)

// envCmd prints one role's credentials for a shell or a dotenv file (or, in
// json, as the credential-process body). The values do not refresh: they
// are for tools that only read the environment.
func envCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("env", flag.ContinueOnError)
	var role, sock, session string
	daemon := roleFlags(fs, &role, &sock, &session) // exec.go
	format := fs.String("format", "sh", "sh | fish | dotenv | json")
	pos, err := parseArgs(fs, args, envSynopsis, envAbout, stdout)
	if err != nil {
		return err
	}
	want, err := daemon()
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usageError{fmt.Sprintf("env: unexpected argument %q\nusage: %s", pos[0], envSynopsis)}
	case role == "":
		return usageError{"env: --role NAME is required\nusage: " + envSynopsis}
	case *format != "json" && !slices.Contains(envfmt.Formats, *format):
		return usageError{fmt.Sprintf("env: unknown --format %q: want sh, fish, dotenv or json\nusage: %s", *format, envSynopsis)}
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
