package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/credproc"
	"github.com/ossd/ossd/internal/daemonid"
)

type configureFlags struct {
	profile  string
	role     string
	region   string
	socket   string
	daemon   string // --daemon-uid, passed on as given
	program  string
	file     string
	uri      bool
	uriValue string
	current  bool
}

const (
	configureSynopsis = "ossd configure aliyun-cli --profile NAME --role ROLE [--region REGION] [--uri [--uri-value URL]] [--current] [--socket PATH] [--daemon-uid UID] [--ossd PATH] [--file PATH]"
	configureUsage    = "usage: " + configureSynopsis
	configureAbout    = `Writes or updates an aliyun CLI profile that gets its credentials from ossd:
an External profile running ossd credential-process, or with --uri a
CredentialsURI profile. The credentials URI is never printed: its path is
a bearer token.`
)

func parseConfigureFlags(args []string, stdout io.Writer) (configureFlags, error) {
	var f configureFlags
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprintf(stdout, "usage: %s\n\n%s\n", configureSynopsis, configureAbout)
		return f, errHelp
	}
	if len(args) == 0 || args[0] != "aliyun-cli" {
		return f, usageError{"configure: the only target is aliyun-cli\n" + configureUsage}
	}
	fs := flag.NewFlagSet("configure aliyun-cli", flag.ContinueOnError)
	fs.StringVar(&f.profile, "profile", "", "aliyun CLI profile to write or update (required)")
	fs.StringVar(&f.role, "role", "", "ossd role the profile gets credentials of (required)")
	fs.StringVar(&f.region, "region", "", "region_id of the profile (required for a new profile)")
	fs.StringVar(&f.socket, "socket", "", "daemon socket to put in the command, or to ask for the URI (default: ossd's own default)")
	fs.StringVar(&f.daemon, "daemon-uid", "", "uid the daemon runs as, besides root, to put in the command, or to ask for the URI (default: the user's own)")
	fs.StringVar(&f.program, "ossd", "", "ossd program whose credential-process the command runs (default: ossd-credential-process if it is installed beside this binary, else ossd if it is on PATH, else this binary)")
	fs.StringVar(&f.file, "file", "", "aliyun CLI config file (default: $HOME/.aliyun/config.json)")
	fs.BoolVar(&f.uri, "uri", false, "write a CredentialsURI profile instead of an External one")
	fs.StringVar(&f.uriValue, "uri-value", "", "credentials URI for --uri (default: the output of ossd uri --role ROLE)")
	fs.BoolVar(&f.current, "current", false, "make the profile the current one")
	pos, err := parseArgs(fs, args[1:], configureSynopsis, configureAbout, stdout)
	if err != nil {
		return f, err
	}
	switch {
	case len(pos) > 0:
		return f, usageError{fmt.Sprintf("configure: unexpected argument %q\n%s", pos[0], configureUsage)}
	case f.profile == "" || f.role == "":
		return f, usageError{"configure: --profile and --role are required\n" + configureUsage}
	case f.uriValue != "" && !f.uri:
		return f, usageError{"configure: --uri-value needs --uri"}
	case f.uri && f.program != "":
		return f, usageError{"configure: --ossd shapes the External command; it does nothing with --uri"}
	}
	return f, validateConfigureFlags(f)
}

func validateConfigureFlags(f configureFlags) error {
	if _, err := daemonid.Parse(f.daemon, func(string) string { return "" }); err != nil {
		return usageError{"configure: " + err.Error()}
	}
	if strings.ContainsFunc(f.profile, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return usageError{"configure: --profile must not contain control characters"}
	}
	if !validRoleName(f.role) {
		return usageError{fmt.Sprintf("configure: --role %q: want 1-64 characters of A-Z a-z 0-9 _ . -", f.role)}
	}
	for _, r := range f.region {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return usageError{fmt.Sprintf("configure: --region %q: want letters, digits and -", f.region)}
		}
	}
	return nil
}

func validRoleName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_.-", r)) {
			return false
		}
	}
	return true
}

// configure writes an aliyun CLI profile that gets its credentials from
// ossd.
func configure(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseConfigureFlags(args, stdout)
	if err != nil {
		return err
	}
	return configureAliyunCLI(ctx, f, clock.Real{}, os.Getenv, stdout, stderr)
}

func configureAliyunCLI(ctx context.Context, f configureFlags, clk clock.Clock, getenv func(string) string, stdout, stderr io.Writer) error {
	path, err := cliConfigPath(f.file, getenv)
	if err != nil {
		return err
	}
	edit, what, err := profileEdit(ctx, f, stderr)
	if err != nil {
		return err
	}
	path, data, mode, err := credproc.ReadCLIConfig(path)
	if err != nil {
		return err
	}
	out, res, err := credproc.SetProfile(data, edit)
	if err != nil {
		return fmt.Errorf("configure %s: %w", path, err)
	}
	if res.Created && f.region == "" {
		return usageError{fmt.Sprintf("configure: profile %q is new: give --region (the aliyun CLI refuses a profile without region_id)", f.profile)}
	}
	backup := ""
	if data != nil {
		if backup, err = credproc.Backup(path, data, clk.Now()); err != nil {
			return err
		}
	}
	if err := credproc.WriteAtomic(path, out, mode); err != nil {
		return err
	}
	reportProfile(stdout, f, path, what, backup, res)
	warnProfile(stderr, f, path, mode, res)
	return nil
}

// reportProfile says what configure did and how to use the profile.
func reportProfile(w io.Writer, f configureFlags, path, what, backup string, res credproc.EditResult) {
	verb := "updated"
	if res.Created {
		verb = "added"
	}
	fmt.Fprintf(w, "%s profile %q in %s: %s\n", verb, f.profile, path, what)
	if backup != "" {
		fmt.Fprintf(w, "previous file saved as %s\n", backup)
	}
	fmt.Fprintf(w, "use it with: aliyun --profile %s ...  (or ALIBABA_CLOUD_PROFILE=%s)\n", f.profile, f.profile)
}

func cliConfigPath(flagPath string, getenv func(string) string) (string, error) {
	if flagPath != "" {
		return filepath.Abs(flagPath)
	}
	home := getenv("HOME")
	if home == "" {
		return "", errors.New("configure: $HOME is not set; give --file PATH")
	}
	return filepath.Join(home, ".aliyun", "config.json"), nil
}

// profileEdit returns the change to make and a description of it.
func profileEdit(ctx context.Context, f configureFlags, stderr io.Writer) (credproc.ProfileEdit, string, error) {
	e := credproc.ProfileEdit{Name: f.profile, MakeCurrent: f.current, NewOnly: []credproc.Field{{Key: "output_format", Value: "json"}}}
	var what string
	if f.uri {
		u, err := credentialsURI(ctx, f)
		if err != nil {
			return e, "", err
		}
		e.Set = []credproc.Field{{Key: "mode", Value: "CredentialsURI"}, {Key: "credentials_uri", Value: u}}
		what = "mode CredentialsURI, credentials_uri " + uriOrigin(u) + "/… (path not shown: it is the role's bearer token)"
	} else {
		cmd, err := processCommand(f, stderr)
		if err != nil {
			return e, "", err
		}
		e.Set = []credproc.Field{{Key: "mode", Value: "External"}, {Key: "process_command", Value: cmd}}
		what = "mode External, process_command " + cmd
	}
	if f.region != "" {
		e.Set = append(e.Set, credproc.Field{Key: "region_id", Value: f.region})
	}
	return e, what, nil
}

// daemonArgs are the flags that find and check the daemon, to pass on.
func (f configureFlags) daemonArgs() []string {
	var out []string
	if f.socket != "" {
		out = append(out, "--socket", f.socket)
	}
	if f.daemon != "" {
		out = append(out, "--daemon-uid", f.daemon)
	}
	return out
}

// processCommand returns the External profile's command: with --ossd,
// that program's credential-process; else the lean helper when it is
// installed beside this binary (leanHelper), which starts several times
// faster; else ossd credential-process. The aliyun CLI splits the command
// on spaces with no quoting, so no part may contain a space or a quote.
func processCommand(f configureFlags, stderr io.Writer) (string, error) {
	parts := []string{f.program, "credential-process"}
	if f.program == "" {
		if lean, ok := leanHelper(stderr); ok {
			parts = []string{lean}
			fmt.Fprintf(stderr, "ossd: note: the profile runs the lean helper %s, installed beside ossd\n", lean)
		} else {
			prog, err := ossdProgram(stderr)
			if err != nil {
				return "", err
			}
			parts[0] = prog
		}
	}
	parts = append(append(parts, "--role", f.role), f.daemonArgs()...)
	for _, p := range parts {
		if p == "" || strings.ContainsAny(p, " \t\n\r\"'\\`$") {
			return "", fmt.Errorf("configure: %q cannot go into process_command: the aliyun CLI splits it on spaces and honours no quotes; use a path without spaces or quotes", p)
		}
	}
	return strings.Join(parts, " "), nil
}

// leanHelperName is the lean helper's file name (cmd/ossd-credential-process).
const leanHelperName = "ossd-credential-process"

// leanHelper returns the path of ossd-credential-process in this binary's
// directory, if it is there: a regular, executable file, owned by root or
// by the owner of this binary, that neither group nor others may write
// (whoever could change it would choose every process's credentials). One
// that fails the last two checks is named on stderr and not used.
func leanHelper(stderr io.Writer) (string, bool) {
	self, err := os.Executable()
	if err != nil {
		return "", false
	}
	path := filepath.Join(filepath.Dir(self), leanHelperName)
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return "", false
	}
	if why := untrusted(fi, self); why != "" {
		fmt.Fprintf(stderr, "ossd: warning: not using %s: %s\n", path, why)
		return "", false
	}
	return path, true
}

// untrusted says why fi, the lean helper beside the binary self, may not
// be run, or "".
func untrusted(fi fs.FileInfo, self string) string {
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Sprintf("group or others may write it (mode %04o); chmod go-w it to use it", fi.Mode().Perm())
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	sf, err := os.Stat(self)
	if !ok || err != nil {
		return "its owner cannot be checked"
	}
	if own, ok := sf.Sys().(*syscall.Stat_t); ok && (st.Uid == 0 || st.Uid == own.Uid) {
		return ""
	}
	return fmt.Sprintf("it belongs to uid %d, neither root nor the owner of %s", st.Uid, self)
}

// ossdProgram returns "ossd" when it is on PATH, else this binary's path.
func ossdProgram(stderr io.Writer) (string, error) {
	if _, err := exec.LookPath("ossd"); err == nil {
		return "ossd", nil
	}
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("configure: ossd is not on PATH and this binary's path is unknown (%w); give --ossd PATH", err)
	}
	fmt.Fprintf(stderr, "ossd: note: ossd is not on PATH; the profile runs %s\n", self)
	return self, nil
}

// credentialsURI returns --uri-value, or asks `ossd uri --role ROLE`.
func credentialsURI(ctx context.Context, f configureFlags) (string, error) {
	u := f.uriValue
	if u == "" {
		self, err := os.Executable()
		if err != nil {
			return "", fmt.Errorf("configure: find ossd: %w; give --uri-value URL", err)
		}
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		var out, errb bytes.Buffer
		args := append([]string{"uri", "--role", f.role}, f.daemonArgs()...)
		cmd := exec.CommandContext(ctx, self, args...)
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("configure: `ossd uri --role %s` failed (%w): %s\n  give the URL with --uri-value URL", f.role, err, strings.TrimSpace(errb.String()))
		}
		u = strings.TrimSpace(out.String())
	}
	pu, err := url.Parse(u)
	if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
		return "", usageError{"configure: the credentials URI must be an http(s) URL with a host"}
	}
	return u, nil
}

// uriOrigin returns only the scheme and host of a credentials URI: its
// path is the role's bearer token, and its query or user info may carry
// authorisation too (SPEC §3).
func uriOrigin(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "(unprintable URL)"
	}
	return u.Scheme + "://" + u.Host
}

// warnProfile tells the user what the profile leaves at risk.
func warnProfile(w io.Writer, f configureFlags, path string, mode fs.FileMode, res credproc.EditResult) {
	if f.uri {
		fmt.Fprintf(w, "ossd: note: only the aliyun CLI reads CredentialsURI profiles; credentials-go and the Node library reject them\n"+
			"  (unsupported profile mode): give those SDKs ALIBABA_CLOUD_CREDENTIALS_URI instead\n")
	} else {
		fmt.Fprintf(w, "ossd: warning: when credentials-go, the Node or the Python credentials library use this profile, they write the STS\n"+
			"  secret it returns back into %s in plain text (credentials-go also drops keys it does not know).\n"+
			"  The aliyun CLI does not. For those SDKs prefer the credentials URI or the metadata endpoint; see docs/credential-process.md\n", path)
	}
	var stale []string
	for _, k := range []string{"access_key_secret", "sts_token"} {
		if v, ok := res.Before(k); ok && string(v) != `""` && string(v) != "null" {
			stale = append(stale, k)
		}
	}
	if len(stale) > 0 {
		fmt.Fprintf(w, "ossd: note: profile %q still holds %s from before; ossd left it alone (remove it if nothing needs it)\n", f.profile, strings.Join(stale, " and "))
	}
	if mode.Perm()&0o077 != 0 {
		fmt.Fprintf(w, "ossd: warning: %s is readable by group or others (mode %04o): run chmod 600 %s\n", path, mode.Perm(), path)
	}
}
