package metadata_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/time/rate"

	"github.com/ossd/ossd/internal/ratelimit"
	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/metadata"
)

// The benchmarks compare the metadata listener with a bare net/http handler
// serving the same bytes on the same kind of listener (loopback TCP, one
// keep-alive connection): the difference is what ossd adds. The rate
// limit is lifted; its default would refuse a benchmark's request rate.

// benchServer serves a metadata listener for "reader" that logs nothing,
// as the daemon does at its default level.
func benchServer(b *testing.B, required bool) string {
	env := newEnv(b)
	return serve(b, metadata.New(metadata.Options{Source: env.Service, Role: "reader", Clock: env.Clock, Limit: unlimited(), RequireToken: required}))
}

func BenchmarkMetadataGet(b *testing.B) {
	benchGets(b, "http://"+benchServer(b, false)+creds)
}

func BenchmarkBareGet(b *testing.B) {
	env := newEnv(b)
	body := env.Get(testenv.Params("reader")).AppendJSON(nil)
	addr := serve(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	benchGets(b, "http://"+addr+creds)
}

// BenchmarkMetadataTokenThenGet is what credentials-go does per refresh
// with a role name configured: PUT a token, GET the role with it.
func BenchmarkMetadataTokenThenGet(b *testing.B) {
	benchTokenThenGet(b, "http://"+benchServer(b, true))
}

func BenchmarkBareTokenThenGet(b *testing.B) {
	env := newEnv(b)
	body := env.Get(testenv.Params("reader")).AppendJSON(nil)
	tok := []byte(strings.Repeat("t", 43))
	addr := serve(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			w.Write(tok)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	benchTokenThenGet(b, "http://"+addr)
}

func BenchmarkURIGet(b *testing.B) {
	env := newEnv(b)
	u := metadata.NewURI(metadata.URIOptions{Source: env.Service, Key: metadata.NewKey(), Limit: unlimited(), BaseURL: "http://x"})
	addr := serve(b, u)
	url, _ := u.URL("reader")
	benchGets(b, "http://"+addr+strings.TrimPrefix(url, "http://x"))
}

// unlimited is a rate limiter that lets everything through, at the cost of
// the real one's lookups.
func unlimited() *ratelimit.Limiter { return ratelimit.New(ratelimit.Options{Rate: rate.Inf}) }

func client() *http.Client {
	return &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4}}
}

func benchGets(b *testing.B, url string) {
	c := client()
	b.ReportAllocs()
	for b.Loop() {
		mustDo(b, c, mustRequest(b, "GET", url))
	}
}

func benchTokenThenGet(b *testing.B, base string) {
	c := client()
	b.ReportAllocs()
	for b.Loop() {
		put := mustRequest(b, "PUT", base+metadata.TokenPath)
		put.Header.Set("X-aliyun-ecs-metadata-token-ttl-seconds", "21600")
		tok := mustDo(b, c, put)
		get := mustRequest(b, "GET", base+creds)
		get.Header.Set("X-aliyun-ecs-metadata-token", tok)
		mustDo(b, c, get)
	}
}

func mustRequest(b *testing.B, method, url string) *http.Request {
	r, err := http.NewRequest(method, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	return r
}

func mustDo(b *testing.B, c *http.Client, r *http.Request) string {
	resp, err := c.Do(r)
	if err != nil {
		b.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		b.Fatalf("%s %s = %d %s %v", r.Method, r.URL.Path, resp.StatusCode, body, err)
	}
	return string(body)
}
