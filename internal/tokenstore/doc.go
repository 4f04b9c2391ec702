// Package tokenstore keeps the daemon's STS tokens across a restart of the
// daemon, so that a restart (a deploy, a crash, a DaemonSet rollout) costs
// no AssumeRole call. It does not keep them across a reboot: the file lives
// in the runtime directory, which must be in memory (tmpfs or ramfs), and
// [Open] refuses any other directory, so no token is ever written to
// persistent storage.
//
// The file, [FileName] in the runtime directory, is written atomically (a
// temporary file in the same directory, fsync, rename) with mode 0600. It
// holds secrets, so it is read only if it is a regular file, reached
// without following a symlink, owned by the daemon's effective uid, with no
// permission bits for group or others, no larger than [MaxFileSize], and a
// well-formed version-[Version] file; anything else is ignored with a
// warning naming the reason, never trusted in part.
//
// Each kept token carries its cache key and a [Fingerprint] of the STS that
// issued it (endpoint, region and the source credential's identity, never a
// secret). [Store.Load] hands a token back to the refresher only if its key
// still belongs to a configured role (or to an on-demand session of one)
// and its fingerprint matches the STS in force; the refresher then judges
// its remaining life (see refresher.Refresher.Restore).
//
// A Store is safe for concurrent use. Run, which saves after fetches, blocks
// until its context ends; the caller owns its goroutine and saves once more
// at shutdown.
package tokenstore
