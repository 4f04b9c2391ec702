package credproc_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"

	"golang.org/x/time/rate"

	"github.com/ossd/ossd/internal/credproc"
	"github.com/ossd/ossd/internal/ratelimit"
	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/socket"
)

// BenchmarkClient measures one helper's exchange with a warm daemon: a
// fresh connection, one request, the body parsed. "daemon" is the real
// socket API; "bare-handler" is a net/http handler writing the same bytes
// over the same transport, the limit; "net/http-client" is the daemon asked
// through a fresh http.Client, as a helper that did not hand-roll its
// request would.
func BenchmarkClient(b *testing.B) {
	env := testenv.New(b, testenv.Options{}, "reader")
	env.Service.Apply(context.Background(), testenv.Roles("reader"))
	// One uid asks thousands of times a second, past the default per-uid
	// rate; the bare handler has no limit either.
	daemon := serveLimited(b, env, ratelimit.New(ratelimit.Options{Rate: rate.Inf}))
	c, err := env.Service.Credentials(context.Background(), "reader", "")
	if err != nil {
		b.Fatal(err)
	}
	body := c.AppendJSON(nil)
	bare := serveHandler(b, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	for name, path := range map[string]string{"daemon": daemon, "bare-handler": bare} {
		b.Run(name, func(b *testing.B) {
			cl := credproc.Client{Socket: path, Clock: env.Clock}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := cl.Credentials(context.Background(), "reader", ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("net/http-client", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			hc := testenv.UnixClient(daemon)
			resp, err := hc.Get("http://localhost/v1/credentials/reader")
			if err != nil {
				b.Fatal(err)
			}
			b2, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			hc.CloseIdleConnections()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("status %d: %s", resp.StatusCode, b2)
			}
			if _, err := credproc.ParseBody(b2); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func serveHandler(b *testing.B, h http.Handler) string {
	path := testenv.SocketPath(b)
	ln, err := net.Listen("unix", path)
	if err != nil {
		b.Fatal(err)
	}
	srv := socket.NewHTTPServer(h)
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return path
}
