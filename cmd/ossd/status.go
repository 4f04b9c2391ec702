package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/internal/daemonid"
	"github.com/ossd/ossd/internal/paths"
	"github.com/ossd/ossd/internal/preflight"
	"github.com/ossd/ossd/internal/ready"
	"github.com/ossd/ossd/internal/service"
	"github.com/ossd/ossd/socket"
)

const (
	statusSynopsis = "ossd status [--socket PATH] [--config FILE] [--daemon-uid UID] [--json] [--live] [--timeout 5s]"
	statusAbout    = `Shows each role of the running daemon: state, time to expiry, last refresh,
callers served and last error; then whether the daemon is ready and how the
last config load went.

Exit codes:
  0  every role can be served (ok, or degraded: a cached token is served
     while renewal fails)
  1  the daemon cannot be reached (not running, permission denied, not
     answering), or answered with an error
  2  usage error
  3  the daemon answers, but some role cannot be served (failing, or not
     fetched yet)

--live asks only whether the daemon answers (GET /healthz), for liveness
probes: 0 when it does, 1 when not, whatever the roles' state.`
)

// status prints the daemon's roles as a table, or as JSON with --json, and
// exits 3 when some role cannot be served.
func status(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	sockFlag := fs.String("socket", "", "Unix socket path (overrides $"+paths.EnvSocket+" and the config)")
	cfgPath := fs.String("config", "", "config file, to find the socket from [server] socket")
	asJSON := fs.Bool("json", false, "print JSON: the roles, and the readiness report of GET /readyz")
	timeout := fs.Duration("timeout", 5*time.Second, "give up on the daemon after this long")
	live := fs.Bool("live", false, "only check that the daemon answers (liveness): exit 0 or 1")
	daemon := daemonFlag(fs)
	pos, err := parseArgs(fs, args, statusSynopsis, statusAbout, stdout)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, pos, 0, statusSynopsis); err != nil {
		return err
	}
	if *timeout <= 0 {
		return usageError{"status: --timeout must be positive"}
	}
	want, err := daemon()
	if err != nil {
		return err
	}
	sock, err := socketFromConfig(*sockFlag, *cfgPath, want)
	if err != nil {
		return err
	}
	if *live {
		if _, err := sock.get(ctx, "/healthz", *timeout); err != nil {
			return err
		}
		_, err := fmt.Fprintln(stdout, "live: ossd answers at", sock.path)
		return err
	}
	roles, rep, err := fetchStatus(ctx, sock, *timeout)
	if err != nil {
		return err
	}
	if *asJSON {
		err = writeJSON(stdout, map[string]any{"roles": roles.Roles, "audit": roles.Audit, "readiness": rep})
	} else {
		printStatus(stdout, roles.Roles)
		if roles.Audit == "failing" {
			fmt.Fprintln(stdout, "AUDIT LOG FAILING: it cannot be written; new credentials and URLs are refused (503 AuditFailed) unless [audit] required = false; see the daemon's log")
		}
		printReadiness(stdout, rep)
	}
	if err != nil {
		return err
	}
	if !rep.Ready {
		return &exitError{code: 3, err: errors.New(notReadyLine(rep))}
	}
	return nil
}

// socketFromConfig finds the socket, reading [server] socket from the
// config file when one is given.
func socketFromConfig(flagPath, cfgPath string, want daemonid.Want) (daemonSocket, error) {
	configured := ""
	if cfgPath != "" {
		loaded, err := config.Load(cfgPath)
		if err != nil {
			return daemonSocket{}, err
		}
		configured = loaded.Config.Server.Socket
	}
	return findSocket(flagPath, configured, want), nil
}

// fetchStatus asks the daemon for its roles, with the audit log's state,
// and its readiness.
func fetchStatus(ctx context.Context, sock daemonSocket, timeout time.Duration) (socket.Roles, ready.Report, error) {
	var (
		rep  ready.Report
		resp socket.Roles
	)
	body, err := sock.get(ctx, "/v1/roles", timeout)
	if err != nil {
		return resp, rep, err
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return resp, rep, fmt.Errorf("status: daemon answered with bad JSON: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://localhost/readyz", nil)
	if err != nil {
		return resp, rep, err
	}
	code, body, err := sock.do(req, timeout)
	if err != nil {
		return resp, rep, err
	}
	if err := json.Unmarshal(body, &rep); err != nil || (code != http.StatusOK && code != http.StatusServiceUnavailable) {
		return resp, rep, fmt.Errorf("status: /readyz answered %d: %s", code, oneLine(string(body), 300))
	}
	rep.Ready = code == http.StatusOK
	return resp, rep, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// printReadiness says whether the daemon is ready and how the last config
// load went.
func printReadiness(w io.Writer, rep ready.Report) {
	if rep.Ready {
		fmt.Fprintln(w, "\nready: every role can be served")
	} else {
		fmt.Fprintln(w, "\n"+notReadyLine(rep))
	}
	printSTS(w, rep.STS)
	if l := rep.LastReload; l != nil {
		if l.OK {
			fmt.Fprintf(w, "last config load: ok (%s, %s)\n", l.Why, l.Time.Format(time.RFC3339))
		} else {
			fmt.Fprintf(w, "last config load: REJECTED, the previous config is running (%s, %s)\n", l.Why, l.Time.Format(time.RFC3339))
			if l.Error != "" {
				fmt.Fprintf(w, "  %s\n", strings.ReplaceAll(strings.TrimSpace(l.Error), "\n", "\n  "))
			}
		}
	}
}

// printSTS says what is unusual about STS: a clock far from ours, or a
// rate cut by throttling.
func printSTS(w io.Writer, s *ready.STS) {
	if s == nil {
		return
	}
	if off := time.Duration(s.ClockOffsetSeconds * float64(time.Second)); off > time.Minute || off < -time.Minute {
		fmt.Fprintf(w, "sts clock: %v from ours; tokens are served for no longer than the duration asked for, by this host's clock\n", off.Round(time.Second))
	}
	if s.MaxQPS > 0 && s.RateLimit < s.MaxQPS {
		fmt.Fprintf(w, "sts rate: %.3g AssumeRole calls/s of max_qps %g, cut after STS answered Throttling\n", s.RateLimit, s.MaxQPS)
	}
}

// notReadyLine names what keeps the daemon from being ready.
func notReadyLine(rep ready.Report) string {
	var parts []string
	for _, f := range rep.Failing {
		code := f.Code
		if code == "" {
			code = "no code"
		}
		parts = append(parts, fmt.Sprintf("%s failing (%s)", f.Name, code))
	}
	if len(rep.Pending) > 0 {
		parts = append(parts, "pending: "+strings.Join(rep.Pending, ", "))
	}
	if rep.Hidden > 0 {
		parts = append(parts, fmt.Sprintf("%d more you may not have", rep.Hidden))
	}
	return "not ready: " + strings.Join(parts, "; ")
}

func printStatus(w io.Writer, roles []service.RoleStatus) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ROLE\tSTATE\tEXPIRES IN\tLAST REFRESH\tSERVED\tLAST ERROR")
	for _, r := range roles {
		exp, last := "-", "-"
		if !r.Expiration.IsZero() {
			exp = (time.Duration(r.ExpiresIn) * time.Second).String()
		}
		if !r.LastRefresh.IsZero() {
			last = r.LastRefresh.Format(time.RFC3339)
		}
		errText := r.LastError
		if errText == "" {
			errText = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", r.Name, r.State, exp, last, r.Served, oneLine(errText, 80))
	}
	tw.Flush()
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

const (
	configSynopsis = "ossd config check FILE"
	configAbout    = `Checks FILE as ossd serve would before it calls STS: syntax, types and every
setting; policy files; the source credential (access key files, inline
values or the environment; the OIDC token file); the users and groups of
[role.allow]; the audit log's directory. Every problem is reported at once.
Exits 0 when serve would start with FILE, 1 when not, 2 on a usage error.`
)

// configCmd runs "ossd config check FILE".
func configCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fmt.Fprintf(stdout, "usage: %s\n\n%s\n", configSynopsis, configAbout)
			return errHelp
		}
		return usageError{"usage: " + configSynopsis}
	}
	fs := flag.NewFlagSet("config check", flag.ContinueOnError)
	pos, err := parseArgs(fs, args[1:], configSynopsis, configAbout, stdout)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, pos, 1, configSynopsis); err != nil {
		return err
	}
	loaded, err := preflight.Load(pos[0], preflight.Options{})
	if err != nil {
		return err
	}
	for _, w := range loaded.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	fmt.Fprintf(stdout, "%s: ok (%d roles: %s)\n", pos[0], len(loaded.Config.Roles), strings.Join(loaded.Config.RoleNames(), ", "))
	return nil
}
