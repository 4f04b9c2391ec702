package config

import (
	"path/filepath"
	"strings"
)

// Audit configures the audit log ([audit]): one JSON line per security
// event, such as every URL signed or refused.
type Audit struct {
	// File is where the lines are appended; created 0600 if missing. Empty
	// means standard error, beside the daemon's log.
	File string `toml:"file"`
}

func (a Audit) validate(p *problems) {
	if a.File != "" && (!filepath.IsAbs(a.File) || strings.ContainsRune(a.File, 0)) {
		p.addf("audit.file", "%s must be an absolute path", quote(a.File))
	}
}
