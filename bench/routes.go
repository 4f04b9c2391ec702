package bench

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// Response is one recorded answer.
type Response struct {
	Status int                 `json:"status"`
	Header map[string][]string `json:"header"` // canonical keys; Date and Content-Length left out
	Body   []byte              `json:"body"`
}

type routeKey struct{ method, path string }

// Routes are the answers a server gave, by method and path. As an
// http.Handler it replays them: the limit server, a bare net/http handler
// doing nothing but write the same bytes. It is safe for concurrent use
// once built.
type Routes struct {
	m map[routeKey]*Response
}

// Route is one entry of Routes in serialised form.
type Route struct {
	Method   string `json:"method"`
	Path     string `json:"path"`
	Response `json:"response"`
}

// NewRoutes returns Routes holding rs; a later entry for the same method
// and path wins.
func NewRoutes(rs []Route) *Routes {
	out := &Routes{m: make(map[routeKey]*Response, len(rs))}
	for _, r := range rs {
		out.m[routeKey{r.Method, r.Path}] = &r.Response
	}
	return out
}

// List returns the routes sorted by path and method.
func (rs *Routes) List() []Route {
	out := make([]Route, 0, len(rs.m))
	for _, k := range slices.SortedFunc(maps.Keys(rs.m), func(a, b routeKey) int {
		if a.path != b.path {
			return strings.Compare(a.path, b.path)
		}
		return strings.Compare(a.method, b.method)
	}) {
		out = append(out, Route{Method: k.method, Path: k.path, Response: *rs.m[k]})
	}
	return out
}

// ServeHTTP writes the recorded answer to r's method and path, or 404.
func (rs *Routes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	resp, ok := rs.m[routeKey{r.Method, r.URL.Path}]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	for k, v := range resp.Header {
		h[k] = v
	}
	w.WriteHeader(resp.Status)
	w.Write(resp.Body) // a failed write means the client left
}

// Capture connects to t, performs its operation once, and returns every
// answer as Routes. The operation must succeed.
func Capture(ctx context.Context, t Target) (*Routes, error) {
	c, err := Dial(ctx, t.Network, t.Addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	rs := &Routes{m: make(map[routeKey]*Response)}
	c.Record = func(req *Request, status int, header map[string][]string, body []byte) {
		delete(header, "Date")
		delete(header, "Content-Length")
		rs.m[routeKey{req.Method, req.Path}] = &Response{Status: status, Header: header, Body: slices.Clone(body)}
	}
	if err := t.Op.Do(c); err != nil {
		return nil, fmt.Errorf("capture %s: %w", t.Name, err)
	}
	return rs, nil
}

// Merge adds every route of other to rs.
func (rs *Routes) Merge(other *Routes) {
	maps.Copy(rs.m, other.m)
}
