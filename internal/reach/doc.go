// Package reach explains why a client could not talk to the daemon over
// its Unix socket, so that `ossd status` and `ossd presign` give the advice
// that fits: start the daemon (nothing listens), join a group (permission
// denied, naming the owner, group and mode of the socket or of the
// directory in the way), or look at the daemon (it accepted but did not
// answer in time).
//
// [Diagnose] only stats the path and its directories; it is safe for
// concurrent use.
package reach
