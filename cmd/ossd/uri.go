package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/ossd/ossd/internal/paths"
)

const (
	uriSynopsis = "ossd uri --role NAME [--socket PATH] [--config FILE] [--daemon-uid UID] [--timeout 10s]"
	uriAbout    = `Prints the value to put in ALIBABA_CLOUD_CREDENTIALS_URI for one role, as the
running daemon serves it ([uri] listen). The URL's path is the role's
bearer token: whoever has it gets the role's credentials.`
)

// uriCmd prints the value to put in ALIBABA_CLOUD_CREDENTIALS_URI for one
// role. It asks the running daemon over the Unix socket: the daemon holds
// the key and knows where the endpoint listens, and whoever may read
// credentials from the socket may read the URL that serves them.
func uriCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("uri", flag.ContinueOnError)
	role := fs.String("role", "", "role name, as configured in the daemon (required)")
	cfgPath := fs.String("config", "", "config file, to find the socket from [server] socket")
	sockFlag := fs.String("socket", "", "daemon socket (overrides $"+paths.EnvSocket+" and the config)")
	timeout := fs.Duration("timeout", 10*time.Second, "give up on the daemon after this long")
	daemon := daemonFlag(fs)
	pos, err := parseArgs(fs, args, uriSynopsis, uriAbout, stdout)
	if err != nil {
		return err
	}
	want, err := daemon()
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usageError{fmt.Sprintf("uri: unexpected argument %q\nusage: %s", pos[0], uriSynopsis)}
	case *role == "":
		return usageError{"uri: --role NAME is required\nusage: " + uriSynopsis}
	case *timeout <= 0:
		return usageError{"uri: --timeout must be positive"}
	}
	sock, err := socketFromConfig(*sockFlag, *cfgPath, want)
	if err != nil {
		return err
	}
	body, err := sock.get(ctx, "/v1/uri/"+url.PathEscape(*role), *timeout)
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
