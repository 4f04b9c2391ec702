// Package apierr writes the daemon's HTTP errors: {"Code":...,"Message":...}
// with a stable code, as every listener answers them.
package apierr

import (
	"net/http"

	"github.com/ossd/ossd"
)

var (
	jsonType = []string{"application/json"}
	nosniff  = []string{"nosniff"}
	noStore  = []string{"no-store"}
	// retry is the Retry-After of a 429: rate limits refill within a second.
	retry = []string{"1"}
)

// Write sends status with a JSON error body. The message is escaped as
// JSON, whatever bytes a caller put in the request it quotes.
func Write(w http.ResponseWriter, status int, code, message string) {
	b := make([]byte, 0, 64+len(code)+len(message))
	b = append(b, `{"Code":`...)
	b = ossd.AppendJSONString(b, code)
	b = append(b, `,"Message":`...)
	b = ossd.AppendJSONString(b, message)
	b = append(b, "}\n"...)
	h := w.Header()
	h["Content-Type"] = jsonType
	h["X-Content-Type-Options"] = nosniff
	h["Cache-Control"] = noStore
	if status == http.StatusTooManyRequests {
		h["Retry-After"] = retry
	}
	w.WriteHeader(status)
	w.Write(b) // a failed write means the caller left
}
