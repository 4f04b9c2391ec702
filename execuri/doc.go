// Package execuri keeps the exec-scoped credentials URIs that `ossd exec`
// registers: one per command, alive exactly as long as the connection that
// registered it.
//
// A client (ossd exec) picks a 256-bit token (credproc.NewExecToken) and
// registers it over the Unix socket for one role and session. The
// registration is authorised like any credentials request: the registering
// process is the caller, and the role's [role.allow] rules decide. The
// daemon answers on the same connection and keeps it: the command's pid
// comes back on it for the audit log, and when it closes (the command
// ended, or ossd exec was killed and the kernel closed its socket) the
// token is revoked at once. The credentials-URI listener
// (metadata.URIServer) asks the [Registry] which role and session a token
// serves, and checks the role's rules again against the process that
// connects to it.
//
// The Registry holds token digests (SHA-256), never tokens, so a lookup's
// timing says nothing useful about any token, and no token is kept once
// its registration has been read. It is bounded: at most MaxPerUID live registrations per
// registering uid and MaxTotal in all; a registration beyond either is
// refused (nothing is evicted, since every live URI belongs to a running
// command).
//
// A Registry is safe for concurrent use. Run blocks until its context ends,
// then ends every registration (telling each client why) and waits for
// their Hold calls to return.
package execuri
