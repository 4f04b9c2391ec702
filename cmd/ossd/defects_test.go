package main_test

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/testenv"
)

// halfSent opens a connection to addr on network and sends the headers of
// a request that announces a body it never sends: the connection stays
// active until the server's read timeout.
func halfSent(t *testing.T, network, addr, head string) net.Conn {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestReloadSurvivesStalledMetadataClient: a local client holds a
// half-sent request on a metadata listener, and a reload removes that
// listener. The listener's shutdown runs out of time on it; the daemon must
// close it and go on serving, not exit.
func TestReloadSurvivesStalledMetadataClient(t *testing.T) {
	e := newReloadEnv(t, "a")
	addr := freeAddr(t)
	withListener := func(md string) string {
		return fmt.Sprintf("[source]\ntype = \"access_key\"\naccess_key_id = %q\naccess_key_secret_file = \"secret\"\n[sts]\nregion = \"cn-hangzhou\"\nendpoint = %q\n[[role]]\nname = \"a\"\narn = %q\n%s",
			testenv.KeyID, e.endpoint, testenv.Params("a").RoleARN, md)
	}
	e.writeRaw(withListener(fmt.Sprintf("[[metadata]]\nlisten = %q\nrole = \"a\"\n", addr)))
	waitFor(t, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	halfSent(t, "tcp", addr, "PUT /latest/api/token HTTP/1.1\r\nHost: 127.0.0.1\r\nX-aliyun-ecs-metadata-token-ttl-seconds: 60\r\nContent-Length: 10\r\n\r\n")
	e.writeRaw(withListener(""))
	waitFor(t, func() bool {
		return strings.Contains(e.d.Stderr.String(), "connections that did not finish in time were closed")
	})
	if exited, err := e.d.Exited(); exited {
		t.Fatalf("ossd exited (%v) when a reload removed a listener with a stalled client\nstderr:\n%s", err, e.d.Stderr)
	}
	e.eventually("a", 200)
}

// TestRotatedSecretFile: the source secret in access_key_secret_file is
// wrong at start, so nothing can be fetched. Writing the right one and
// sending SIGHUP makes the next request succeed; so does writing it without
// a signal, through the watch on the files the config names.
func TestRotatedSecretFile(t *testing.T) {
	for _, how := range []string{"SIGHUP", "file watch"} {
		t.Run(how, func(t *testing.T) {
			t.Setenv("HTTP_PROXY", "")
			_, endpoint := testenv.StartSTS(t, "a")
			dir := t.TempDir()
			secret := filepath.Join(dir, "keys", "secret")
			os.Mkdir(filepath.Dir(secret), 0o700)
			os.WriteFile(secret, []byte("an-old-disabled-secret\n"), 0o600)
			cfg := filepath.Join(dir, "ossd.toml")
			os.WriteFile(cfg, []byte(fmt.Sprintf("[source]\ntype = \"access_key\"\naccess_key_id = %q\naccess_key_secret_file = \"keys/secret\"\n[sts]\nregion = \"cn-hangzhou\"\nendpoint = %q\n[[role]]\nname = \"a\"\narn = %q\n",
				testenv.KeyID, endpoint, testenv.Params("a").RoleARN)), 0o600)
			sock := testenv.SocketPath(t)
			d := startDaemon(t, sock, "serve", "--config", cfg, "--socket", sock)
			if status, body := get(t, sock, "/v1/credentials/a"); status != 503 || !strings.Contains(body, "SignatureDoesNotMatch") {
				t.Fatalf("with the wrong secret: %d %s, want 503 naming SignatureDoesNotMatch", status, body)
			}
			tmp := secret + ".new"
			os.WriteFile(tmp, []byte(testenv.KeySecret+"\n"), 0o600)
			os.Rename(tmp, secret) // as a secret manager rotates a file
			if how == "SIGHUP" {
				d.Cmd.Process.Signal(syscall.SIGHUP)
			}
			waitFor(t, func() bool { status, _ := get(t, sock, "/v1/credentials/a"); return status == 200 })
		})
	}
}

// TestStopCutsStalledSocketClient: a client on the socket sends a request's
// headers and part of its body, then nothing. SIGTERM must still end in a
// clean exit (status 0, which Stop checks), within the 5 s drain budget
// plus start-up slack, with one log line about the cut connection.
func TestStopCutsStalledSocketClient(t *testing.T) {
	sock := testenv.SocketPath(t)
	d := startDaemon(t, sock, "serve", "--dev", "--socket", sock)
	c := halfSent(t, "unix", sock, "POST /v1/presign HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{\"role\":")
	// The request is being read once the daemon has seen it: ask for
	// something else and make sure the daemon is answering.
	if status, _ := get(t, sock, "/healthz"); status != 200 {
		t.Fatalf("healthz = %d", status)
	}
	d.Stop(t)
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	io.ReadAll(c)
	if n := strings.Count(d.Stderr.String(), "connections that did not finish in time were closed"); n != 1 {
		t.Errorf("%d log lines about the cut connection, want 1\nstderr:\n%s", n, d.Stderr)
	}
}
