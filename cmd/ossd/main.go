// Command ossd is a local credential daemon for Alibaba Cloud: it assumes
// RAM roles through STS, caches one token per role and session, renews them
// ahead of expiry, and serves them to processes on the same host.
//
// Usage:
//
//	ossd serve --config FILE [--socket PATH]
//	ossd serve --dev [--socket PATH]
//	ossd version
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/ossd/ossd/internal/daemonid"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ossd:", err)
		os.Exit(exitCode(err))
	}
}

// usageError is a command-line mistake; it exits 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func exitCode(err error) int {
	if _, ok := err.(usageError); ok {
		return 2
	}
	if _, ok := errors.AsType[*daemonid.WrongDaemonError](err); ok {
		return daemonid.ExitCode
	}
	return 1
}

const usage = `usage: ossd <command> [flags]

commands:
  serve     run the daemon (--config FILE, or --dev for a local demo with fake credentials)
  status    show the running daemon's roles (--json for JSON)
  config    config check FILE: validate a config without starting anything
  credential-process  print one role's credentials for the aliyun CLI and SDK process providers (--role NAME)
  configure           configure aliyun-cli --profile NAME --role ROLE: point an aliyun CLI profile at ossd
  uri                 print the ALIBABA_CLOUD_CREDENTIALS_URI value of a role (--role NAME)
  presign             print a signed OSS URL: presign --role NAME [--method M] [--expires 15m] oss://bucket/key
  version   print the version
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{usage}
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case "status":
		return status(ctx, args[1:], stdout, stderr)
	case "config":
		return configCmd(args[1:], stdout, stderr)
	case "credential-process":
		return credentialProcess(ctx, args[1:], stdout, stderr)
	case "configure":
		return configure(ctx, args[1:], stdout, stderr)
	case "uri":
		return uriCmd(ctx, args[1:], stdout, stderr)
	case "presign":
		return presignCmd(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "ossd", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown command %q\n%s", args[0], usage)}
}

const version = "0.1.0-dev"
