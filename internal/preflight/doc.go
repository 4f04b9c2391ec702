// Package preflight checks a config the way `ossd serve` needs it, short
// of calling STS: `ossd config check`, `ossd serve` and a reload all call
// [Load], so a config that passes the check is one serve starts with.
//
// Beyond [config.Load] (syntax, types, every setting's range, policy
// files) it checks what depends on the machine: that the source credential
// can be found (access key files, inline values or the environment; the
// OIDC token file), that every user and group in [role.allow] exists, and
// that the audit log's directory exists. It reports every problem at once.
// Whether STS accepts the credential, and whether ecs_ram_role or default
// find one, only a call to STS can tell; serve logs those at start.
//
// Load reads files and the environment (through Options.Getenv) but writes
// nothing; it is safe for concurrent use.
package preflight
