// Package envfmt renders credentials as environment variable assignments:
// for sh (and bash, zsh, dash: POSIX quoting), for fish, and for dotenv
// files. It is what `ossd env` prints and what `ossd exec --env` sets.
//
// Each format quotes so that the value read back is the value written, or
// refuses: sh single quotes hold any byte but NUL; fish single quotes hold
// any byte but NUL once backslashes and quotes are escaped; dotenv has no
// single standard, so values are written bare when they need no quoting,
// else in single quotes (literal in node dotenv, python-dotenv, docker
// compose and systemd EnvironmentFile), and refused when they hold a
// quote, a backslash or a line break, which those readers treat
// differently. Real STS values never need quoting.
//
// Everything here is a pure function, safe for concurrent use.
package envfmt
