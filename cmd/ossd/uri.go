package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"

	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/internal/paths"
)

// uriCmd prints the value to put in ALIBABA_CLOUD_CREDENTIALS_URI for one
// role. It asks the running daemon over the Unix socket: the daemon holds
// the key and knows where the endpoint listens, and whoever may read
// credentials from the socket may read the URL that serves them.
func uriCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("uri", flag.ContinueOnError)
	fs.SetOutput(stderr)
	role := fs.String("role", "", "role name, as configured in the daemon (required)")
	cfgPath := fs.String("config", "", "config file, to find the socket from [server] socket")
	sock := fs.String("socket", "", "daemon socket (overrides $"+paths.EnvSocket+" and the config)")
	daemon := daemonFlag(fs)
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	want, err := daemon()
	if err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usageError{fmt.Sprintf("uri: unexpected argument %q", fs.Arg(0))}
	case *role == "":
		return usageError{"uri: --role NAME is required"}
	}
	configured := ""
	if *cfgPath != "" {
		loaded, err := config.Load(*cfgPath)
		if err != nil {
			return err
		}
		configured = loaded.Config.Server.Socket
	}
	path := paths.Socket(*sock, configured, os.Getenv, os.Geteuid())
	body, err := socketGet(ctx, path, want, "/v1/uri/"+url.PathEscape(*role))
	if err != nil {
		return fmt.Errorf("uri --role %s: %w", *role, err)
	}
	var resp struct {
		URI string `json:"uri"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || resp.URI == "" {
		return fmt.Errorf("uri --role %s: the daemon answered without a URI", *role)
	}
	_, err = fmt.Fprintln(stdout, resp.URI)
	return err
}
