// Package metadata serves credentials to unmodified Alibaba Cloud SDKs over
// the two HTTP interfaces they already speak (SPEC.md §2 and §3):
//
//   - [Server], an ECS-metadata-compatible listener bound to one role:
//     PUT /latest/api/token, GET /latest/meta-data/ram/security-credentials/
//     and GET .../security-credentials/<role>. Metadata tokens are optional
//     by default and can be required.
//   - [URIServer], the target of ALIBABA_CLOUD_CREDENTIALS_URI: a loopback
//     endpoint whose per-role path, derived from a [Key], is the only
//     authorisation, because the clients cannot send a header.
//
// Both answer from the daemon's cache through a [Source] (in the daemon,
// *service.Service), bound each request by a deadline shorter than the
// clients' one-second budget, and refuse requests that look forwarded or
// come from a browser (X-Forwarded-For, Forwarded, Referer, Origin, a Host
// that is a name other than localhost).
//
// Servers and keys are safe for concurrent use. Serve blocks until its
// context ends, then shuts the listener down; the caller owns the goroutine.
package metadata
