// Package safepath opens the files that matter to ossd (its socket's
// directory, the audit log, the credentials-URI key) only through paths that
// no other local user can redirect.
//
// The rule is the one OpenSSH's StrictModes and systemd apply. Every
// component of the path, from "/" down, must be
//
//   - a real directory: a symbolic link is refused, never followed;
//   - owned by root or by ossd's own effective uid;
//   - not writable by group or others, unless it is owned by root and has
//     the sticky bit (like /tmp), in which case the entry below it must be
//     owned by root or by ossd: the sticky bit stops others renaming or
//     removing an entry they do not own, so that entry cannot be swapped.
//
// A file opened through [Dir.OpenFile] must also be a regular file owned by
// ossd, with no permission bits for group or others, and it is opened with
// O_NOFOLLOW.
//
// The walk opens each component with openat(O_PATH|O_NOFOLLOW) relative to
// the descriptor of the directory above it, and checks the descriptor it
// opened, so a component swapped during the walk is seen as what it is
// rather than resolved by name a second time. Once a path passes, only root
// or ossd can change it.
//
// Refusals are *[UnsafeError], naming the offending component, its owner and
// mode, and what to do; they match [ErrUnsafe].
//
// A [Checker] is a value with no state; it and [Dir] are safe for
// concurrent use, and a Dir must be closed when done.
package safepath
