// Package sessionname names the STS session of one caller of a role whose
// sessions are per caller (a [[role]] with session_per = "uid", "unit" or
// "pod"). The RoleSessionName is what ActionTrail records, so a session per
// caller tells the cloud-side audit trail which workload used the role.
//
// [Identity] says who the caller is under a [Per] mode, from what the kernel
// vouches for ([peer.Identity]): "u1000" for a uid, the systemd unit from
// the caller's cgroup ("app.service", or "app.service@u1000" for a user
// unit), or the Kubernetes pod UID from a kubepods cgroup path. A caller it
// cannot place is an error: such a caller must be refused, never given the
// role's shared session.
//
// [Name] joins a role's session name and an identity into a RoleSessionName
// that STS accepts (2-64 of [A-Za-z0-9.@_-]). When the plain join would not
// be accepted, it sanitises and cuts the name and appends a hash of the
// unsanitised name and identity, so that two callers never share a name.
//
// Everything here is a pure function of its arguments, safe for concurrent
// use.
package sessionname
