package sessionname

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/ossd/ossd/internal/peer"
)

// Per says whose session a caller of a role gets: a [[role]]'s
// session_per.
type Per string

// The session_per modes.
const (
	PerRole Per = "role" // every caller shares the role's session (the default)
	PerUID  Per = "uid"  // one session per calling uid
	PerUnit Per = "unit" // one session per systemd unit of the caller's cgroup
	PerPod  Per = "pod"  // one session per Kubernetes pod of the caller's cgroup
)

// Modes lists the session_per values, for messages.
const Modes = `"role", "uid", "unit" or "pod"`

// ParsePer parses a session_per value; "" is [PerRole].
func ParsePer(s string) (Per, error) {
	switch p := Per(s); p {
	case "":
		return PerRole, nil
	case PerRole, PerUID, PerUnit, PerPod:
		return p, nil
	}
	return "", fmt.Errorf("unknown session_per %q: want %s", s, Modes)
}

// PerCaller reports whether p gives callers sessions of their own.
func (p Per) PerCaller() bool { return p != "" && p != PerRole }

// ErrUnidentified is wrapped by every error of [Identity]: the caller could
// not be placed, so it has no session of its own.
var ErrUnidentified = errors.New("caller has no session of its own")

// Identity returns the part of the session name that identifies the caller
// id under p: "u<uid>", a systemd unit ([UnitOf]) or a pod UID ([PodOf]).
// It fails, wrapping [ErrUnidentified], for an unidentified caller or one
// whose cgroup names no unit or pod, and for [PerRole], which has no
// per-caller identity.
func Identity(p Per, id peer.Identity) (string, error) {
	if !id.Known {
		return "", fmt.Errorf("%w: session_per = %q and the caller could not be identified", ErrUnidentified, p)
	}
	switch p {
	case PerUID:
		return "u" + strconv.FormatUint(uint64(id.UID), 10), nil
	case PerUnit:
		if u, ok := UnitOf(id.Cgroup); ok {
			return u, nil
		}
		return "", fmt.Errorf("%w: session_per = \"unit\" and cgroup %s is in no systemd unit", ErrUnidentified, quoteCgroup(id.Cgroup))
	case PerPod:
		if pod, ok := PodOf(id.Cgroup); ok {
			return pod, nil
		}
		return "", fmt.Errorf("%w: session_per = \"pod\" and cgroup %s is in no Kubernetes pod", ErrUnidentified, quoteCgroup(id.Cgroup))
	}
	return "", fmt.Errorf("%w: session_per = %q names no caller", ErrUnidentified, p)
}

// For returns the RoleSessionName the caller id gets under p of a role
// whose own session name is base: [Name] of base and the caller's
// [Identity].
func For(p Per, base string, id peer.Identity) (string, error) {
	ident, err := Identity(p, id)
	if err != nil {
		return "", err
	}
	return Name(base, ident), nil
}

// quoteCgroup quotes a cgroup path for a message, cut to a readable length.
func quoteCgroup(s string) string {
	if s == "" {
		return "(unreadable)"
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return strconv.Quote(s)
}
