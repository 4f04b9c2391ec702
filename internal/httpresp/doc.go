// Package httpresp reads one HTTP/1.x response, strictly, without net/http:
// the credential helper sends one request per connection, and linking
// net/http (and with it crypto/tls and crypto/x509) for http.ReadResponse
// would cost every helper run its start-up.
//
// [Read] takes a status line, header fields and a body delimited by
// Content-Length or by the end of the connection; [ReadHead] only the
// status line and fields, for a 101 Switching Protocols after which the
// connection speaks another protocol. It refuses what the
// helper never needs and a confused or hostile server could use to smuggle
// a second answer: informational (1xx) answers to Read, Transfer-Encoding, a
// repeated or malformed Content-Length, folded or malformed header lines,
// bare CR or LF line ends. Sizes are bounded by [Limits].
//
// Errors wrap [ErrMalformed] or [ErrTooLarge] (or the reader's own error,
// such as io.ErrUnexpectedEOF) and never quote the response: its bytes may
// hold a secret.
//
// Read holds no state; it is safe for concurrent use on distinct readers.
package httpresp
