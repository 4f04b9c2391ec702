package presign

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/ossd/ossd"
)

// MaxBody bounds a request body.
const MaxBody = 64 << 10

// Response is the body of a successful POST /v1/presign.
type Response struct {
	URL    string `json:"url"`
	Method string `json:"method"`
	// Expiration is when the URL stops working, UTC, in [ossd.TimeLayout].
	Expiration string `json:"expiration"`
	// SignedHeaders must be sent, with these values, with the URL.
	SignedHeaders map[string]string `json:"signed_headers,omitempty"`
}

// Handler returns the http.Handler of POST /v1/presign: a JSON [Request]
// in, a JSON [Response] out, errors as {"Code","Message"}. The caller's
// identity, for access rules and the audit log, comes from the request's
// context ([peer.FromContext]).
func (s *Signer) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, &Error{http.StatusMethodNotAllowed, CodeMethod, r.Method + " not allowed; use POST"})
			return
		}
		req, err := decode(w, r)
		if err != nil {
			writeError(w, err)
			return
		}
		res, err := s.Presign(r.Context(), req)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, Response{URL: res.URL, Method: res.Method,
			Expiration: res.Expiration.UTC().Format(ossd.TimeLayout), SignedHeaders: res.SignedHeaders})
	})
}

// Routes returns the socket API routes of s: POST /v1/presign, and the same
// path for other methods, which get a JSON 405 rather than the API's 404.
func (s *Signer) Routes() map[string]http.Handler {
	h := s.Handler()
	return map[string]http.Handler{"POST /v1/presign": h, "/v1/presign": h}
}

// decode reads exactly one JSON object of known fields, of at most MaxBody
// bytes.
func decode(w http.ResponseWriter, r *http.Request) (*Request, error) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody))
	dec.DisallowUnknownFields()
	var req Request
	err := dec.Decode(&req)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("unexpected data after the JSON object")
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, &Error{http.StatusRequestEntityTooLarge, CodeTooLarge, "request body over 64 KiB"}
	case errors.Is(err, io.EOF):
		return nil, badRequest(CodeBadRequest, "empty body: want a JSON object")
	case err != nil:
		return nil, badRequest(CodeBadRequest, "malformed body: %v", err)
	case req.Role == "":
		return nil, badRequest(CodeBadRequest, "role is required")
	}
	return &req, nil
}

func writeError(w http.ResponseWriter, err error) {
	e := classify(err)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.Status)
	w.Write(appendError(make([]byte, 0, 256), e)) // a failed write means the caller left
}

// writeJSON writes v without HTML escaping, so that a URL's '&' stays '&'.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		writeError(w, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store") // the URL carries the session token
	w.WriteHeader(status)
	w.Write(buf.Bytes()) // a failed write means the caller left
}
