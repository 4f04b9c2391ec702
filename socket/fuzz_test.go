package socket_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/socket"
)

// FuzzRequest sends arbitrary methods, paths and queries to the socket API
// handler. Every answer must be a 200 credentials or roles body or a JSON
// error with a code, and nothing may panic.
func FuzzRequest(f *testing.F) {
	for _, s := range [][2]string{
		{"GET", "/v1/credentials/reader"}, {"GET", "/v1/credentials/reader?session=a"},
		{"GET", "/v1/credentials/reader?session=a&session=b"}, {"GET", "/v1/credentials/%2e%2e"},
		{"POST", "/v1/credentials/reader"}, {"GET", "/v1/roles?x=1"}, {"HEAD", "/healthz"},
		{"GET", "//v1//credentials//reader"}, {"GET", "/v1/credentials/reader?%zz"},
	} {
		f.Add(s[0], s[1])
	}
	env := testenv.New(f, testenv.Options{}, "reader")
	env.Service.Apply(context.Background(), testenv.Roles("reader"))
	h := socket.New(socket.Options{Service: env.Service})
	f.Fuzz(func(t *testing.T, method, target string) {
		if !validMethod(method) || !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\x00") {
			return
		}
		if _, err := url.ParseRequestURI(target); err != nil {
			return // net/http refuses it before any handler runs
		}
		req := httptest.NewRequest(method, "http://localhost"+target, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK || method == http.MethodHead {
			return
		}
		var e struct{ Code, Message string }
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Code == "" || e.Message == "" {
			t.Fatalf("%s %s: %d %q is not a JSON error", method, target, rec.Code, rec.Body)
		}
	})
}

func validMethod(m string) bool {
	switch m {
	case "GET", "POST", "PUT", "HEAD", "DELETE", "PATCH", "OPTIONS":
		return true
	}
	return false
}
