package main

import (
	"bytes"
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/credproc"
	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/socket"
)

func TestOutputMatchesTheDaemonsCredentials(t *testing.T) {
	env := testenv.New(t, testenv.Options{}, "reader")
	env.Service.Apply(context.Background(), testenv.Roles("reader"))
	path := testenv.SocketPath(t)
	ln, err := socket.Listen(path, socket.ListenOptions{GID: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- socket.New(socket.Options{Service: env.Service}).Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()

	var stdout, stderr bytes.Buffer
	if err := run([]string{"--role", "reader", "--socket", path}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v (stderr %q)", err, stderr.String())
	}
	want := credproc.AppendOutput(nil, env.Get(testenv.Params("reader")))
	if !bytes.Equal(stdout.Bytes(), want) {
		t.Errorf("stdout =\n%s\nwant\n%s", stdout.Bytes(), want)
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr = %q, want nothing", stderr.String())
	}
}

func TestErrors(t *testing.T) {
	var stdout, stderr bytes.Buffer
	missing := testenv.SocketPath(t)
	err := run([]string{"--role", "reader", "--socket", missing}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), missing) || stdout.Len() != 0 {
		t.Errorf("no daemon: err %v, stdout %q; want an error naming the socket and no output", err, stdout.String())
	}
	if err := run([]string{"--socket", missing}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "--role") {
		t.Errorf("missing --role: err %v", err)
	}
}

// TestLinksNoHTTPStack: the helper starts fast because it does not link
// net/http and the TLS and certificate code that come with it; an import
// that brings them back fails here rather than only in a benchmark.
func TestLinksNoHTTPStack(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	for _, heavy := range []string{"net/http", "crypto/tls", "crypto/x509", "net/url", "github.com/aliyun/alibaba-cloud-sdk-go/sdk"} {
		if slices.Contains(deps, heavy) {
			t.Errorf("ossd-credential-process links %s", heavy)
		}
	}
}
