package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/credproc"
	"github.com/ossd/ossd/internal/daemonid"
	"github.com/ossd/ossd/internal/envfmt"
	"github.com/ossd/ossd/internal/paths"
)

// EnvCredentialsURI is where every official SDK's default chain looks last.
const envCredentialsURI = "ALIBABA_CLOUD_CREDENTIALS_URI"

// shadowing are the variables that would make an SDK's default chain stop
// before the credentials URI: the environment provider's and the OIDC
// provider's, and the URI itself.
var shadowing = []string{
	envCredentialsURI, envfmt.AccessKeyID, envfmt.AccessKeySecret, envfmt.SecurityToken,
	"ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
}

// chainDefaults turn off the default chains' steps between the environment
// and the URI that a host may answer by itself: the instance's RAM role
// from the real metadata service, and the aliyun CLI's current profile.
// A value the user set is kept.
var chainDefaults = []string{"ALIBABA_CLOUD_ECS_METADATA_DISABLED=true", "ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true"}

// forwarded are the signals ossd exec passes on to the command.
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH}

// registerTimeout bounds a registration, which may wait for a cold STS
// session.
const registerTimeout = 30 * time.Second

type execFlags struct {
	role, socket, session string
	env, override         bool
	daemon                daemonid.Want
	argv                  []string
}

const (
	execSynopsis = "ossd exec --role NAME [--session SUFFIX] [--env] [--override] [--socket PATH] -- CMD [ARGS...]"
	execAbout    = `Runs CMD with ALIBABA_CLOUD_CREDENTIALS_URI set to a URI of its own that
serves the role to CMD and its children while CMD runs, and is revoked when
it exits (or when ossd exec is killed). Signals are passed on to CMD; the
exit status is CMD's. Flags come before CMD. See docs/exec.md.`
)

func parseExecFlags(args []string, stdout io.Writer) (execFlags, error) {
	var f execFlags
	fs := flag.NewFlagSet("exec", flag.ContinueOnError)
	daemon := roleFlags(fs, &f.role, &f.socket, &f.session)
	fs.BoolVar(&f.env, "env", false, "also set "+envfmt.AccessKeyID+", _SECRET and "+envfmt.SecurityToken+" (they do not refresh)")
	fs.BoolVar(&f.override, "override", false, "replace credential variables already set in the environment")
	// Flags stop at CMD: what follows is CMD's, flags and all.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, helpText(fs, execSynopsis, execAbout))
		return f, errHelp
	case err != nil:
		return f, usageError{fmt.Sprintf("exec: %v\n%s", err, helpText(fs, execSynopsis, execAbout))}
	}
	var err error
	if f.daemon, err = daemon(); err != nil {
		return f, err
	}
	f.argv = fs.Args()
	switch {
	case f.role == "":
		return f, usageError{"exec: --role NAME is required\nusage: " + execSynopsis}
	case len(f.argv) == 0:
		return f, usageError{"exec: no command\nusage: " + execSynopsis}
	}
	return f, nil
}

// roleFlags defines the flags that name a role and session on a daemon's
// socket, as exec and env take them, and --daemon-uid (daemon.go), whose
// value the returned function gives after fs.Parse.
func roleFlags(fs *flag.FlagSet, role, socket, session *string) func() (daemonid.Want, error) {
	fs.StringVar(role, "role", "", "role name, as configured in the daemon (required)")
	fs.StringVar(socket, "socket", "", "daemon socket (overrides $"+paths.EnvSocket+")")
	fs.StringVar(session, "session", "", "session suffix: a separate STS session named <session_name>-SUFFIX")
	return daemonFlag(fs)
}

// exitStatus is the command's exit status, which ossd exec exits with. It
// prints nothing.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// execCmd runs a command with ALIBABA_CLOUD_CREDENTIALS_URI set to a URI
// that serves one role to that command, and its children, while it runs.
func execCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseExecFlags(args, stdout)
	if err != nil {
		return err
	}
	env, err := execEnv(os.Environ(), f.override)
	if err != nil {
		return err
	}
	warnProfileFile(os.Getenv, stderr)
	cl := &credproc.Client{Socket: paths.Socket(f.socket, "", os.Getenv, os.Geteuid()), Clock: clock.Real{}, Daemon: f.daemon}
	req := credproc.ExecRequest{Role: f.role, Session: f.session, Token: credproc.NewExecToken()}
	rctx, cancel := context.WithTimeout(ctx, registerTimeout)
	defer cancel()
	hold, err := cl.Exec(rctx, req)
	if err != nil {
		return fmt.Errorf("exec --role %s: %w", f.role, err)
	}
	env = append(env, envCredentialsURI+"="+hold.URI)
	if f.env {
		c, err := cl.Credentials(rctx, f.role, f.session)
		if err != nil {
			hold.Close()
			return fmt.Errorf("exec --role %s --env: %w", f.role, err)
		}
		for _, v := range envfmt.Vars(c) {
			env = append(env, v.Name+"="+v.Value)
		}
		fmt.Fprintf(stderr, "ossd exec: warning: %s, _SECRET and %s are set and do not refresh: they expire at %s; "+
			"SDKs that read %s refresh by themselves\n", envfmt.AccessKeyID, envfmt.SecurityToken, c.Expiration.UTC().Format(time.RFC3339), envCredentialsURI)
	}
	cmd := exec.Command(f.argv[0], f.argv[1:]...)
	cmd.Env, cmd.Stdin, cmd.Stdout, cmd.Stderr = env, os.Stdin, stdout, stderr
	return supervise(cmd, cl, req, hold, stderr)
}

// execEnv returns environ without the variables that would shadow the URI,
// refusing if any of them is set to a value and override is false, and
// with the chain defaults added.
func execEnv(environ []string, override bool) ([]string, error) {
	var out, set []string
	present := map[string]bool{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		present[k] = true
		if !slices.Contains(shadowing, k) {
			out = append(out, kv)
		} else if v != "" {
			set = append(set, k)
		}
	}
	if len(set) > 0 && !override {
		return nil, fmt.Errorf("exec: %s already set: the SDKs' default chains would use it before %s; unset it, or pass --override to replace it for the command",
			strings.Join(set, ", "), envCredentialsURI)
	}
	for _, kv := range chainDefaults {
		if k, _, _ := strings.Cut(kv, "="); !present[k] {
			out = append(out, kv)
		}
	}
	return out, nil
}

// warnProfileFile warns when a shared credentials file exists: the default
// chains read it before the URI, and no variable turns that step off.
func warnProfileFile(getenv func(string) string, stderr io.Writer) {
	var files []string
	if p := getenv("ALIBABA_CLOUD_CREDENTIALS_FILE"); p != "" {
		files = append(files, p)
	} else if home := getenv("HOME"); home != "" {
		files = append(files, home+"/.alibabacloud/credentials", home+"/.alibabacloud/credentials.ini")
	}
	for _, p := range files {
		if _, err := os.Stat(p); err == nil {
			fmt.Fprintf(stderr, "ossd exec: warning: %s exists: the SDKs' default chains read its profile before %s\n", p, envCredentialsURI)
		}
	}
}

// supervise starts cmd, reports its pid to the daemon, forwards signals to
// it, keeps its URI registered while it runs, and returns its exit status
// once it has ended and the URI is revoked.
func supervise(cmd *exec.Cmd, cl *credproc.Client, req credproc.ExecRequest, hold *credproc.ExecHold, stderr io.Writer) error {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		hold.Close()
		return startError(err)
	}
	k := &keeper{cl: cl, req: req, pid: cmd.Process.Pid, stderr: stderr, stop: make(chan struct{}), done: make(chan struct{})}
	k.report(hold) // before Wait: the pid must not be reaped while the daemon checks it
	go k.run(hold)
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	for {
		select {
		case s := <-sigs:
			cmd.Process.Signal(s) // an error means it has exited; Wait says so next
		case err := <-waited:
			close(k.stop)
			<-k.done // the URI is revoked
			return waitStatus(cmd, err)
		}
	}
}

// startError maps a command that cannot start to the shells' statuses: 127
// when it is not found, 126 when it cannot be run.
func startError(err error) error {
	code := 126
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
		code = 127
	}
	return &exitError{code: code, err: fmt.Errorf("exec: %w", err)}
}

// waitStatus returns the command's status as a shell reports it: its exit
// code, or 128 plus the signal that killed it.
func waitStatus(cmd *exec.Cmd, err error) error {
	if cmd.ProcessState == nil {
		return fmt.Errorf("exec: wait: %w", err)
	}
	st, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch {
	case !ok:
		return fmt.Errorf("exec: wait: %w", err)
	case st.Signaled():
		return exitStatus(128 + int(st.Signal()))
	case st.ExitStatus() == 0:
		return nil
	}
	return exitStatus(st.ExitStatus())
}
