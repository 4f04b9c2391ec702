package socket_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/socket"
)

// BenchmarkCredentials measures a full GET /v1/credentials/{role} over the
// Unix socket; BenchmarkBareHandler serves the same bytes from a bare
// net/http handler over the same kind of socket: the practical limit.
func BenchmarkCredentials(b *testing.B) {
	env := testenv.New(b, testenv.Options{}, "reader")
	env.Service.Apply(context.Background(), testenv.Roles("reader"))
	c, _ := start(b, env)
	benchGet(b, c)
}

func BenchmarkBareHandler(b *testing.B) {
	env := testenv.New(b, testenv.Options{}, "reader")
	env.Service.Apply(context.Background(), testenv.Roles("reader"))
	body := env.Get(testenv.Params("reader")).AppendJSON(nil)
	path := testenv.SocketPath(b)
	ln, err := socket.Listen(path, socket.ListenOptions{GID: -1})
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	benchGet(b, testenv.UnixClient(path))
}

func benchGet(b *testing.B, c *http.Client) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := c.Get("http://localhost/v1/credentials/reader")
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}
