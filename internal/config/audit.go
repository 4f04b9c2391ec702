package config

import (
	"path/filepath"
	"strings"
)

// Audit configures the audit log ([audit]): one JSON line per security
// event, such as every URL signed or refused.
type Audit struct {
	// File is where the lines are appended; created 0600 if missing. Empty
	// means $LOGS_DIRECTORY/audit.log under systemd (LogsDirectory=), else
	// standard error, beside the daemon's log; see [Audit.Path].
	File string `toml:"file"`
	// Required (the default) refuses to hand out credentials or URLs whose
	// audit line cannot be written (503 AuditFailed). False hands them out
	// anyway and logs an ERROR.
	Required bool `toml:"required"`
}

// AuditFileName is the audit log's name in $LOGS_DIRECTORY.
const AuditFileName = "audit.log"

// Path returns where the audit log goes: File if set, else audit.log in
// the first directory of $LOGS_DIRECTORY (set by systemd's LogsDirectory=),
// else "" for standard error.
func (a Audit) Path(getenv func(string) string) string {
	if a.File != "" {
		return a.File
	}
	if dirs := getenv("LOGS_DIRECTORY"); dirs != "" {
		first, _, _ := strings.Cut(dirs, ":")
		if filepath.IsAbs(first) {
			return filepath.Join(first, AuditFileName)
		}
	}
	return ""
}

func (a Audit) validate(p *problems) {
	if a.File != "" && (!filepath.IsAbs(a.File) || strings.ContainsRune(a.File, 0)) {
		p.addf("audit.file", "%s must be an absolute path", quote(a.File))
	}
}
