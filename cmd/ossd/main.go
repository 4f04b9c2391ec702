// Command ossd is a local credential daemon for Alibaba Cloud: it assumes
// RAM roles through STS, caches one token per role and session, renews them
// ahead of expiry, and serves them to processes on the same host.
//
// Usage:
//
//	ossd serve --config FILE [--socket PATH]
//	ossd serve --dev [--config FILE] [--socket PATH]
//	ossd status [--socket PATH] [--json]
//	ossd exec --role NAME [--session S] [--env] [--override] -- CMD [ARGS...]
//	ossd env --role NAME [--format sh|fish|dotenv|json]
//	ossd help COMMAND
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
	"github.com/ossd/ossd/internal/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var st exitStatus // ossd exec: the command's status, already reported by the command
		if !errors.As(err, &st) {
			fmt.Fprintln(os.Stderr, "ossd:", err)
		}
		os.Exit(exitCode(err))
	}
}

// exitError carries an exit code other than 1 for an error that has
// already been reported (ossd status: 3, a role cannot be served).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	var ue usageError
	var ee *exitError
	var st exitStatus
	switch {
	case errors.As(err, &st):
		return int(st)
	case errors.As(err, &ue):
		return 2
	case errors.As(err, &ee):
		return ee.code
	}
	if _, ok := errors.AsType[*daemonid.WrongDaemonError](err); ok {
		return daemonid.ExitCode
	}
	return 1
}

const usage = `usage: ossd <command> [flags]

commands:
  serve               run the daemon (--config FILE; --dev for the embedded local STS with fake credentials)
  status              show the running daemon's roles; the exit code says whether it can serve them
  config check FILE   validate a config as serve would, without calling STS
  credential-process  print one role's credentials for the aliyun CLI and SDK process providers (--role NAME)
  configure           configure aliyun-cli --profile NAME --role ROLE: point an aliyun CLI profile at ossd
  uri                 print the ALIBABA_CLOUD_CREDENTIALS_URI value of a role (--role NAME)
  exec                run a command with a credentials URI of its own: exec --role NAME [--env] -- CMD [ARGS...]
  env                 print a role's credentials for a shell: env --role NAME [--format sh|fish|dotenv|json]
  presign             print a signed OSS URL: presign --role NAME [flags] oss://bucket/key
  version             print the version (also --version, -v)
  help COMMAND        print a command's usage and flags

Run "ossd help COMMAND" or "ossd COMMAND --help" for a command's flags.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	err := dispatch(ctx, args, stdout, stderr)
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
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
	case "exec":
		return execCmd(ctx, args[1:], stdout, stderr)
	case "env":
		return envCmd(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-v", "-version":
		fmt.Fprintln(stdout, version.Get())
		return nil
	case "help", "-h", "-help", "--help":
		return help(ctx, args[1:], stdout, stderr)
	}
	return usageError{fmt.Sprintf("unknown command %q\n%s", args[0], usage)}
}

// help prints the usage of ossd, or of the command named in args.
func help(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	switch {
	case len(args) == 0:
		fmt.Fprint(stdout, usage)
		return nil
	case args[0] == "help" || args[0] == "version":
		fmt.Fprint(stdout, usage)
		return nil
	}
	topic := append([]string{}, args...)
	if topic[0] == "configure" && len(topic) == 1 {
		topic = append(topic, "aliyun-cli")
	}
	if topic[0] == "config" && len(topic) == 1 {
		topic = append(topic, "check")
	}
	return dispatch(ctx, append(topic, "--help"), stdout, stderr)
}
