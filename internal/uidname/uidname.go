// Package uidname renders a uid for a message, with its user name when the
// host has one. It is safe for concurrent use.
package uidname

import (
	"os/user"
	"strconv"
)

// String renders uid as "uid 1001 (alice)", or "uid 1001" when it has no
// name on this host.
func String(uid uint32) string {
	id := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(id); err == nil && u.Username != "" {
		return "uid " + id + " (" + u.Username + ")"
	}
	return "uid " + id
}
