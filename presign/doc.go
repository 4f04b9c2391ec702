// Package presign signs OSS URLs on behalf of local callers, so that they can
// hand an object's URL to someone else without ever holding credentials.
//
// A [Signer] checks each [Request] against the role's presign policy
// (config [role.presign]: buckets, key prefixes, methods, longest
// validity), takes a token of the role that outlives the URL (a URL signed
// with an STS token stops working when the token expires, and neither OSS SDK
// checks that), signs the URL with OSS signature V4 (default) or V1, for
// OSS on CloudBox with the CloudBox's scope, and writes an audit line for
// every URL issued and every refusal. Keys with "." or ".." path segments
// are refused: clients resolve them, and the URL would leave the prefixes.
//
// The URLs are byte for byte what the official alibabacloud-oss-go-sdk-v2
// Client.Presign returns for the same inputs and signing time. V1 uses the
// SDK's own signer. V4 is signed here, following the SDK's signer line by
// line, because that signer reads the wall clock and has no way to be given
// the time; the tests compare both against the SDK.
//
// [Signer.Routes] answers POST /v1/presign on the daemon's socket. A Signer
// is safe for concurrent use; it keeps no state between requests.
package presign
