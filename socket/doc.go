// Package socket serves the daemon's API as HTTP/1.1 over a Unix socket:
//
//	GET /v1/credentials/{role}[?session=suffix]  the SPEC §1 credentials body
//	GET /v1/roles                                 roles, expiry, last refresh (no secrets)
//	GET /healthz                                  "ok" once serving
//
// Errors are JSON {"Code":..., "Message":...} with stable codes (see
// errors.go). Listen places the socket safely: it refuses a path that is not
// a socket, removes a stale socket nobody answers on, and refuses to start
// when another daemon answers there.
//
// A Server is safe for concurrent use; Serve blocks until its context ends
// and then shuts down gracefully.
package socket
