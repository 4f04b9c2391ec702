// Package config reads the ossd daemon's TOML configuration.
//
// [Parse] decodes a config strictly (an unknown key is an error that names
// the key and its line), applies defaults, and runs [Config.Validate], which
// reports every problem at once as an [errors.Join] of [*FieldError]. Parse
// is pure: no logging, no file I/O, no environment. [Load] adds the file
// system: it reads the config file, reads each role's policy_file relative to
// the config's directory, and returns warnings for the caller to log (an
// inline secret in a file others can read, policy files others can write).
//
// The daemon's own credentials are resolved separately, when it starts:
// [Source.Resolve] fills the oidc settings from the environment and
// [Source.AccessKey] reads an access key from files, the config or the
// environment. Both take getenv so that tests need not touch the process
// environment.
//
// On reload, [Diff] tells which roles were added, removed or changed.
//
// Every setting is documented in testdata/full.toml. Durations are strings
// such as "90s" or "1h" ([Duration]). Settings left out keep the defaults of
// [Default]; a setting written out is validated as written, so max_qps = 0 is
// an error rather than the default. Per role, an absent or zero duration
// means 1h and an absent session_name means "ossd-<name>".
//
// A [Config] is a plain value with no locks. Parse and Load return a new one
// each time; the daemon swaps whole configs (an atomic.Pointer) on reload and
// never mutates one in place. The package-level functions are safe for
// concurrent use.
package config
