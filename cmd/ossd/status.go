package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/internal/daemonid"
	"github.com/ossd/ossd/internal/paths"
	"github.com/ossd/ossd/internal/service"
)

// status prints the daemon's roles as a table, or as JSON with --json.
func status(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sock := fs.String("socket", "", "Unix socket path")
	asJSON := fs.Bool("json", false, "print JSON")
	daemon := daemonFlag(fs)
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	want, err := daemon()
	if err != nil {
		return err
	}
	path := paths.Socket(*sock, "", os.Getenv, os.Geteuid())
	body, err := socketGet(ctx, path, want, "/v1/roles")
	if err != nil {
		return err
	}
	if *asJSON {
		_, err := stdout.Write(body)
		return err
	}
	var resp struct {
		Roles []service.RoleStatus `json:"roles"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return fmt.Errorf("status: daemon answered with bad JSON: %w", err)
	}
	printStatus(stdout, resp.Roles)
	return nil
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

// socketGet fetches path from the daemon on the Unix socket at sock.
func socketGet(ctx context.Context, sock string, want daemonid.Want, path string) ([]byte, error) {
	c := daemonHTTP(sock, want, 5*time.Second)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://localhost"+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, reachError(sock, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("ossd answered %s: %s", resp.Status, oneLine(string(body), 300))
	}
	return body, nil
}

// unwrapOp drops the URL from a client error: it says http://localhost,
// which is not where the request went.
func unwrapOp(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe.Err
	}
	return err
}

// configCmd runs "ossd config check FILE".
func configCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) != 2 || args[0] != "check" {
		return usageError{"usage: ossd config check FILE"}
	}
	loaded, err := config.Load(args[1])
	if err != nil {
		return err
	}
	for _, w := range loaded.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	fmt.Fprintf(stdout, "%s: ok (%d roles: %s)\n", args[1], len(loaded.Config.Roles), strings.Join(loaded.Config.RoleNames(), ", "))
	return nil
}
