package bench

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const credsBody = `{"AccessKeyId":"STS.x","Code":"Success"}`

// serve runs h on a fresh listener of network ("unix" or "tcp") and counts
// the connections it accepts and the client addresses they come from.
type served struct {
	addr  string
	mu    sync.Mutex // guards conns and peers
	conns int
	peers map[string]bool
}

func serve(t *testing.T, network string, h http.Handler) *served {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = filepath.Join(t.TempDir(), "s.sock")
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &served{addr: ln.Addr().String(), peers: make(map[string]bool)}
	srv := &http.Server{Handler: h, ConnState: func(c net.Conn, st http.ConnState) {
		if st != http.StateNew {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.conns++
		if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
			s.peers[a.IP.String()] = true
		}
	}}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

// seen returns the connections accepted and the client addresses.
func (s *served) seen() (int, map[string]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns, s.peers
}

func bytesHandler(status int, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(body))
	})
}

func TestRunMeasuresEveryOperation(t *testing.T) {
	s := serve(t, "unix", bytesHandler(200, credsBody))
	tgt := Target{Name: "socket", Network: "unix", Addr: s.addr, Op: NewGet("localhost", "/v1/credentials/demo", "/v1/credentials/demo")}
	res, err := Run(context.Background(), Options{Target: tgt, Clients: 4, Window: 200 * time.Millisecond, Warmup: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Ops == 0 || res.Errors != 0 || res.FirstError != "" {
		t.Fatalf("Run = %+v; want operations and no errors", res)
	}
	if res.Target != "socket" || res.Clients != 4 || res.Window != 200*time.Millisecond {
		t.Errorf("Run = %+v", res)
	}
	if want := float64(res.Ops) / 0.2; res.Throughput != want {
		t.Errorf("throughput %v, want ops/window = %v", res.Throughput, want)
	}
	if !(0 < res.P50 && res.P50 <= res.P99 && res.P99 <= res.P999 && res.P999 <= res.Max) {
		t.Errorf("percentiles out of order: %+v", res.Summary)
	}
	if conns, _ := s.seen(); conns != 4 {
		t.Errorf("%d connections, want one per client (4)", conns)
	}
}

func TestRunCountsFailures(t *testing.T) {
	tests := []struct {
		name, want string
		h          http.Handler
	}{
		{"status", "unexpected status 503", bytesHandler(503, `{"Code":"CredentialsUnavailable"}`)},
		{"not credentials", "not a credentials body", bytesHandler(200, `{"Code":"Other"}`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := serve(t, "unix", tc.h)
			tgt := Target{Name: "uri", Network: "unix", Addr: s.addr, Op: NewGet("localhost", "/v1/credentials/SECRET", "/v1/credentials/<token>")}
			res, err := Run(context.Background(), Options{Target: tgt, Clients: 2, Window: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if res.Ops != 0 || res.Errors == 0 || !strings.Contains(res.FirstError, tc.want) {
				t.Errorf("Run = %+v; want only errors, the first saying %q", res, tc.want)
			}
			if strings.Contains(res.FirstError, "SECRET") {
				t.Errorf("error names the secret path: %s", res.FirstError)
			}
		})
	}
}

func TestRunReconnectsAfterAHangUp(t *testing.T) {
	var mu sync.Mutex
	n := 0
	s := serve(t, "unix", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		hangUp := n%10 == 0
		mu.Unlock()
		if hangUp {
			w.Header().Set("Connection", "close")
		}
		w.Write([]byte(credsBody))
	}))
	tgt := Target{Name: "socket", Network: "unix", Addr: s.addr, Op: NewGet("localhost", "/", "/")}
	res, err := Run(context.Background(), Options{Target: tgt, Clients: 2, Window: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if conns, _ := s.seen(); res.Ops < 20 || conns <= 2 {
		t.Errorf("Run = %+v over %d connections; want operations on fresh connections after each hang-up", res, conns)
	}
}

func TestRunPacesClients(t *testing.T) {
	s := serve(t, "tcp", bytesHandler(200, credsBody))
	tgt := Target{Name: "metadata", Network: "tcp", Addr: s.addr, Op: NewGet(s.addr, "/m", "/m")}
	const clients, rate, window = 3, 20.0, 500 * time.Millisecond
	res, err := Run(context.Background(), Options{Target: tgt, Clients: clients, Window: window, Rate: rate, Spread: true})
	if err != nil {
		t.Fatal(err)
	}
	// Each client starts at most one operation per 1/rate: at most
	// rate*window+1 each.
	if most := clients * (int(rate*window.Seconds()) + 1); res.Ops == 0 || res.Ops > most {
		t.Errorf("%d operations, want 1..%d", res.Ops, most)
	}
	_, peers := s.seen()
	if len(peers) != clients {
		t.Errorf("clients came from %v, want %d distinct loopback addresses", peers, clients)
	}
	for p := range peers {
		if !strings.HasPrefix(p, "127.1.0.") {
			t.Errorf("client address %s, want 127.1.0.x", p)
		}
	}
}

func TestRunFailsWhenNothingListens(t *testing.T) {
	tgt := Target{Name: "socket", Network: "unix", Addr: filepath.Join(t.TempDir(), "none.sock"), Op: NewGet("localhost", "/", "/")}
	if _, err := Run(context.Background(), Options{Target: tgt, Clients: 1, Window: time.Millisecond}); err == nil {
		t.Error("Run without a server succeeded")
	}
}
