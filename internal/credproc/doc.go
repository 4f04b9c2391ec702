// Package credproc is the client side of ossd credential-process, the
// helper that the aliyun CLI and the SDKs' External and process providers
// run on every credential lookup.
//
// It renders the one JSON object every such parser accepts (SPEC §4), asks a
// running daemon for credentials over its Unix socket ([Client]), shares
// credentials between concurrent helpers that assume roles themselves
// ([FileCache], direct mode), and edits profiles in the aliyun CLI's
// config.json without disturbing anything else in it ([SetProfile]).
//
// Everything here is safe for concurrent use; a [FileCache] is also safe
// across processes, which is its point. Nothing in this package writes a
// secret anywhere but stdout and the private cache file, or puts one in an
// error.
package credproc
