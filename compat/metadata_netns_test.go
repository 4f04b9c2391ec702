package compat

import (
	"github.com/ossd/ossd/internal/needs"

	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/internal/logtest"
	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/metadata"
)

// mdNetnsMarker names the environment variable that tells a re-executed
// test binary it runs inside the private namespace, and which test it is.
const mdNetnsMarker = "OSSD_COMPAT_NETNS_TEST"

// mdNetns runs the calling top-level test again, alone, in a private user
// and network namespace (unshare -rn), and reports false: the caller
// returns. Inside the namespace it brings lo up, adds 100.100.100.200/32 to
// it when withAddr, and reports true: the caller runs the test body there.
// Nothing touches the machine's own network namespace.
//
// env is added to the child's environment, which is otherwise the test's
// own with every ALIBABA_CLOUD_* and proxy variable removed and HOME set to
// an empty directory, so that no profile or proxy of the machine is used.
func mdNetns(t *testing.T, withAddr bool, env ...string) bool {
	t.Helper()
	if os.Getenv(mdNetnsMarker) == t.Name() {
		mdIP(t, "link", "set", "lo", "up")
		if withAddr {
			mdIP(t, "addr", "add", config.MetadataAddr+"/32", "dev", "lo")
		}
		return true
	}
	unshare := mdNeed(t, "unshare", "util-linux")
	mdNeed(t, "ip", "iproute2")
	cmd := exec.CommandContext(t.Context(), unshare, "--user", "--map-root-user", "--net",
		os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(mdCleanEnv(t.TempDir()), append(env, mdNetnsMarker+"="+t.Name())...)
	out, err := cmd.CombinedOutput()
	switch {
	case err == nil && bytes.Contains(out, []byte("--- PASS: "+t.Name()+" ")):
		t.Logf("in a private network namespace:\n%s", out)
	case err == nil && bytes.Contains(out, []byte("--- SKIP: "+t.Name()+" ")):
		t.Skipf("skipped in the namespace:\n%s", out)
	default:
		t.Fatalf("in a private network namespace (unshare -rn): %v\n%s", err, out)
	}
	return false
}

// mdNeed returns the path of a command the namespace tests need. Without it
// they fail in CI and are skipped elsewhere, saying what to install.
func mdNeed(t *testing.T, cmd, pkg string) string {
	t.Helper()
	return needs.Tool(t, cmd, pkg)
}

func mdIP(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// mdCleanEnv returns the environment without the SDKs' and proxies'
// variables, with HOME set to home.
func mdCleanEnv(home string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch u := strings.ToUpper(k); {
		case strings.HasPrefix(u, "ALIBABA_CLOUD_"), strings.HasPrefix(u, "ALICLOUD_"),
			u == "HTTP_PROXY", u == "HTTPS_PROXY", u == "NO_PROXY", u == "ALL_PROXY", u == "HOME", u == "DEBUG":
			continue
		}
		out = append(out, kv)
	}
	return append(out, "HOME="+home)
}

// mdDaemon is the daemon core (local STS, real SDK client, cache,
// refresher, service) with role "reader", and its front ends.
type mdDaemon struct {
	env *testenv.Env
	log *slog.Logger // the front ends' log, checked for secrets at the end
	srv *metadata.Server
}

func mdNewDaemon(t *testing.T) *mdDaemon {
	t.Helper()
	env := testenv.New(t, testenv.Options{}, "reader")
	if errs := env.Service.Apply(context.Background(), testenv.Roles("reader")); len(errs) > 0 {
		t.Fatal(errs)
	}
	log, buf := logtest.New(t)
	t.Cleanup(func() { logtest.NoSecrets(t, "front-end log", buf.String(), env.Secrets()...) })
	return &mdDaemon{env: env, log: log}
}

// serveMetadata opens a metadata listener for "reader" on addr.
func (d *mdDaemon) serveMetadata(t *testing.T, addr string, required bool) {
	t.Helper()
	d.srv = metadata.New(metadata.Options{Source: d.env.Service, Role: "reader", RequireToken: required, Clock: d.env.Clock, Log: d.log})
	mdServe(t, mdListen(t, addr), d.srv)
}

// serveURI opens a credentials-URI listener on loopback, with its key in a
// fresh state directory, and returns the URL of "reader".
func (d *mdDaemon) serveURI(t *testing.T) string {
	t.Helper()
	key, err := metadata.LoadKey(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	ln := mdListen(t, "127.0.0.1:0")
	u := metadata.NewURI(metadata.URIOptions{Source: d.env.Service, Key: key, Log: d.log, BaseURL: "http://" + ln.Addr().String()})
	mdServe(t, ln, u)
	url, err := u.URL("reader")
	if err != nil {
		t.Fatal(err)
	}
	return url
}

func mdListen(t *testing.T, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// mdServe serves h on ln until the test ends.
func mdServe(t *testing.T, ln net.Listener, h http.Handler) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- metadata.Serve(ctx, ln, h, nil, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
}
