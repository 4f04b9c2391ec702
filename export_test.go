package ossd

import "unsafe"

// TokenSize returns how many bytes t holds.
func TokenSize(t Token) int { return len(t.v) }

// TokenData returns where t's bytes start.
func TokenData(t Token) *byte { return unsafe.StringData(t.v) }
