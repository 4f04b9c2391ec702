package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/ossd/ossd/internal/daemonid"
	"github.com/ossd/ossd/internal/paths"
	"github.com/ossd/ossd/presign"
)

const (
	presignSynopsis = "ossd presign --role NAME [--method GET] [--expires 15m] [--version v4] [--region R] [--endpoint URL] [--url-style S] [--header N:V]... [--query K=V]... [--cloudbox-id ID] [--json] [--socket PATH] [--daemon-uid UID] [--timeout 30s] oss://bucket/key"
	presignAbout    = `Prints a signed URL for the object, made by the running daemon with the
role's credentials, within the role's [role.presign] policy. Flags may come
before or after oss://bucket/key.`
)

// presignFlags are the command line of ossd presign.
type presignFlags struct {
	req     presign.Request
	socket  string
	daemon  daemonid.Want
	timeout time.Duration
	json    bool
	headers pairs
	query   pairs
}

// pairs collects a repeated K<sep>V flag.
type pairs struct {
	sep  string
	vals map[string]string
}

func (p *pairs) String() string { return "" }

func (p *pairs) Set(s string) error {
	k, v, ok := strings.Cut(s, p.sep)
	if p.sep == ":" {
		if !ok {
			return fmt.Errorf("%q: want Name:value", s)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
	}
	if k == "" {
		return fmt.Errorf("%q: empty name", s)
	}
	if p.vals == nil {
		p.vals = map[string]string{}
	}
	if _, dup := p.vals[k]; dup {
		return fmt.Errorf("%q given twice", k)
	}
	p.vals[k] = v
	return nil
}

func parsePresignFlags(args []string, stdout io.Writer) (presignFlags, error) {
	f := presignFlags{headers: pairs{sep: ":"}, query: pairs{sep: "="}}
	fs := flag.NewFlagSet("presign", flag.ContinueOnError)
	fs.StringVar(&f.req.Role, "role", "", "role to sign with (required)")
	fs.StringVar(&f.req.Method, "method", "GET", "HTTP method the URL is for: GET, PUT, HEAD, POST or DELETE")
	fs.StringVar(&f.req.Expires, "expires", "", "validity, e.g. 15m or 6h (default 15m, or the role's max_expires if less)")
	fs.StringVar(&f.req.Version, "version", "v4", "signature version: v4 or v1")
	fs.StringVar(&f.req.Region, "region", "", "the bucket's region (default the role's presign region)")
	fs.StringVar(&f.req.Endpoint, "endpoint", "", "OSS endpoint URL (default https://oss-<region>.aliyuncs.com)")
	fs.StringVar(&f.req.URLStyle, "url-style", "", "virtual, path or cname (default the role's, else virtual)")
	fs.StringVar(&f.req.CloudBoxID, "cloudbox-id", "", "OSS on CloudBox id to sign for, like cb-f8z7yvzgwfkl9q0h; the endpoint then defaults to the CloudBox's (default the role's cloudbox_id)")
	fs.Var(&f.headers, "header", "Name:value header the URL's user must send, signed into the URL (repeatable)")
	fs.Var(&f.query, "query", "name=value sub-resource signed into the URL, e.g. versionId=... (repeatable)")
	fs.BoolVar(&f.json, "json", false, "print JSON: the URL, its expiry (UTC) and the headers to send")
	fs.StringVar(&f.socket, "socket", "", "daemon socket (overrides $"+paths.EnvSocket+")")
	daemon := daemonFlag(fs)
	// Long enough for an AssumeRole call when the URL outlives the cached token.
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "give up on the daemon after this long")
	pos, err := parseArgs(fs, args, presignSynopsis, presignAbout, stdout)
	if err != nil {
		return f, err
	}
	if f.daemon, err = daemon(); err != nil {
		return f, err
	}
	switch {
	case len(pos) != 1:
		return f, usageError{"presign: want exactly one oss://bucket/key\nusage: " + presignSynopsis}
	case f.req.Role == "":
		return f, usageError{"presign: --role NAME is required\nusage: " + presignSynopsis}
	case f.timeout <= 0:
		return f, usageError{"presign: --timeout must be positive"}
	}
	bucket, key, err := parseOSSURL(pos[0])
	if err != nil {
		return f, usageError{"presign: " + err.Error()}
	}
	f.req.Bucket, f.req.Key = bucket, key
	f.req.Method = strings.ToUpper(f.req.Method)
	f.req.Headers, f.req.Query = f.headers.vals, f.query.vals
	return f, nil
}

// parseOSSURL splits oss://bucket/key. The key is taken as it is, with no
// unescaping: "?", "#", "%" and a leading "/" are part of it.
func parseOSSURL(s string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(s, "oss://")
	if !ok {
		return "", "", fmt.Errorf("%q: want oss://bucket/key", s)
	}
	bucket, key, ok = strings.Cut(rest, "/")
	if !ok || bucket == "" || key == "" {
		return "", "", fmt.Errorf("%q: want oss://bucket/key, with a bucket and a key", s)
	}
	return bucket, key, nil
}

// presignCmd runs "ossd presign": it asks the daemon to sign and prints the
// URL.
func presignCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parsePresignFlags(args, stdout)
	if err != nil {
		return err
	}
	resp, err := socketPresign(ctx, findSocket(f.socket, "", f.daemon), &f.req, f.timeout)
	if err != nil {
		return fmt.Errorf("presign: %w", err)
	}
	if !f.json {
		_, err = fmt.Fprintln(stdout, resp.URL)
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(resp)
}

// socketPresign posts req to the daemon's POST /v1/presign.
func socketPresign(ctx context.Context, sock daemonSocket, req *presign.Request, timeout time.Duration) (*presign.Response, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://localhost/v1/presign", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", "application/json")
	code, b, err := sock.do(hreq, timeout)
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		var e struct{ Code, Message string }
		if json.Unmarshal(b, &e) != nil || e.Code == "" {
			return nil, fmt.Errorf("ossd answered %d %s: %s", code, http.StatusText(code), oneLine(string(b), 300))
		}
		return nil, fmt.Errorf("%s: %s", e.Code, e.Message)
	}
	var resp presign.Response
	if err := json.Unmarshal(b, &resp); err != nil || resp.URL == "" {
		return nil, fmt.Errorf("ossd answered without a URL: %s", oneLine(string(b), 300))
	}
	return &resp, nil
}
