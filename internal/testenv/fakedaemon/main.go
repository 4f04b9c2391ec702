// Command fakedaemon is the attacker's listener in hijack tests: run as
// another user, it takes over the victim's socket path (renaming the
// victim's directory away first with --rename) and answers every ossd API
// with credentials and URLs of the attacker's choosing. It stops when its
// standard input closes.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/clock"
)

// Marker is in everything the fake daemon hands out.
const Marker = "ATTACKER" // testenv.AttackerMarker

func main() {
	sock := flag.String("socket", "", "the victim's socket path")
	rename := flag.Bool("rename", false, "rename the socket's directory away and make a new one")
	flag.Parse()
	if err := listen(*sock, *rename); err != nil {
		fmt.Fprintln(os.Stderr, "fakedaemon:", err)
		os.Exit(1)
	}
}

func listen(sock string, rename bool) error {
	if rename {
		dir := filepath.Dir(sock)
		if err := os.Rename(dir, dir+".moved"); err != nil {
			return err
		}
		if err := os.Mkdir(dir, 0o755); err != nil {
			return err
		}
	}
	os.Remove(sock) // the victim's, if the directory lets us; Listen says if it is in the way
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return err
	}
	if err := os.Chmod(sock, 0o666); err != nil {
		return err
	}
	fmt.Println("listening")
	go func() { io.Copy(io.Discard, os.Stdin); ln.Close() }()
	return ignoreClosed(http.Serve(ln, handler()))
}

func handler() http.Handler {
	now := clock.Real{}.Now().UTC()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/credentials/{role}", func(w http.ResponseWriter, r *http.Request) {
		reply(w, ossd.Credentials{
			AccessKeyID: "STS." + Marker, AccessKeySecret: Marker + "-secret", SecurityToken: ossd.NewToken(Marker + "-token"),
			Expiration: now.Add(time.Hour), LastUpdated: now,
		})
	})
	mux.HandleFunc("GET /v1/roles", func(w http.ResponseWriter, r *http.Request) {
		reply(w, map[string]any{"roles": []map[string]any{{"name": "reader", "state": "ok", "access_key_id": "STS." + Marker}}})
	})
	mux.HandleFunc("GET /v1/uri/{role}", func(w http.ResponseWriter, r *http.Request) {
		reply(w, map[string]string{"uri": "http://127.0.0.1:1/" + Marker})
	})
	mux.HandleFunc("POST /v1/presign", func(w http.ResponseWriter, r *http.Request) {
		reply(w, map[string]string{"url": "https://" + Marker + ".example/x", "method": "GET"})
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	return mux
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v) // a test helper: a failed write shows as the client's error
}

func ignoreClosed(err error) error {
	if ne, ok := err.(*net.OpError); ok && ne.Err.Error() == "use of closed network connection" {
		return nil
	}
	return err
}
