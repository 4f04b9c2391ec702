package sessionname

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// STS's RoleSessionName limits (SPEC §6).
const (
	minLen = 2
	maxLen = 64
)

// hashLen is how many hex digits of SHA-256 a changed name ends with: 64
// bits, so that a collision between two identities of one role is not a
// practical concern.
const hashLen = 16

// Name returns the RoleSessionName of the session of ident under a role
// whose own session name is base: base + "-" + ident when STS accepts that
// as it is. Otherwise (a byte STS refuses, or more than 64 bytes) every
// refused byte becomes '_', the name is cut to leave room, and "-" and 16
// hex digits of the SHA-256 of the unsanitised base and ident are
// appended.
//
// For one base, distinct idents give distinct names: a name kept as it is
// never ends in "-" and 16 lower-case hex digits (such a name is hashed
// too), and every hashed name does, with the hash of its base and ident.
func Name(base, ident string) string {
	s := base + "-" + ident
	if valid(s) && !looksHashed(s) {
		return s
	}
	// The length of base first, so that no two (base, ident) pairs hash
	// the same bytes.
	sum := sha256.Sum256([]byte(strconv.Itoa(len(base)) + ":" + s))
	b := []byte(s)
	for i, c := range b {
		if !allowed(c) {
			b[i] = '_'
		}
	}
	if keep := maxLen - 1 - hashLen; len(b) > keep {
		b = b[:keep]
	}
	b = append(b, '-')
	return string(hex.AppendEncode(b, sum[:hashLen/2]))
}

// Valid reports whether s is a RoleSessionName STS accepts: 2-64 of
// [A-Za-z0-9.@_-].
func Valid(s string) bool { return valid(s) }

func valid(s string) bool {
	if len(s) < minLen || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !allowed(s[i]) {
			return false
		}
	}
	return true
}

func allowed(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '@' || c == '_' || c == '-'
}

// looksHashed reports whether s ends the way a hashed name does: "-" and
// hashLen lower-case hex digits.
func looksHashed(s string) bool {
	if len(s) < hashLen+1 || s[len(s)-hashLen-1] != '-' {
		return false
	}
	for i := len(s) - hashLen; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
