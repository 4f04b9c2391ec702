package config

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// maxPolicyFile bounds a policy file before compaction; the compacted
// policy must still fit in 2048 bytes.
const maxPolicyFile = 64 << 10

// Loaded is a config read from a file, with what [Load] found worth a
// warning. The caller logs the warnings; Load does not.
type Loaded struct {
	Config   *Config
	Warnings []string
	// Dir is the absolute directory of the config file, against which
	// relative paths (policy_file, the access key files) are resolved:
	// pass it to [Source.AccessKey].
	Dir string
}

// Load reads and parses the config file at path, then reads each role's
// policy_file (relative to the config's directory) into Policy, compacted
// and validated like an inline policy; PolicyFile becomes the absolute path.
//
// It warns, without failing, when an inline access_key_secret sits in a
// file readable by group or others, when the config or a policy file is
// writable by group or others (whoever can write it can widen what a role's
// sessions may do), when access_key_secret_file is readable by group or
// others, and when the STS endpoint is plain http.
func Load(path string) (*Loaded, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	data, mode, err := readRegular(abs, maxConfigSize)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	cfg, err := Parse(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", abs, err)
	}
	l := &Loaded{Config: cfg, Dir: filepath.Dir(abs)}
	l.checkConfigFile(abs, mode)
	if err := l.loadPolicies(); err != nil {
		return nil, fmt.Errorf("config %s: %w", abs, err)
	}
	l.checkSecretFile()
	l.checkChains()
	if cfg.STS.MaxQPS > 100 { // only a build with -tags ossd_bench accepts this (qpslimit_bench.go)
		l.warnf("sts.max_qps %v is above the 100 AssumeRole calls per second STS allows an account: this is a benchmark build", cfg.STS.MaxQPS)
	}
	if strings.HasPrefix(strings.ToLower(cfg.STS.Endpoint), "http:") {
		l.warnf("sts.endpoint %s is plain http: credentials and tokens cross the network unencrypted", cfg.STS.Endpoint)
	}
	return l, nil
}

func (l *Loaded) warnf(format string, args ...any) {
	l.Warnings = append(l.Warnings, fmt.Sprintf(format, args...))
}

func (l *Loaded) checkConfigFile(path string, mode fs.FileMode) {
	if l.Config.Source.AccessKeySecret != "" && mode&0o044 != 0 {
		l.warnf("%s holds an inline source.access_key_secret and is readable by group or others (mode %04o): chmod 600 it or use access_key_secret_file", path, mode)
	}
	if mode&0o022 != 0 {
		l.warnf("%s is writable by group or others (mode %04o)", path, mode)
	}
}

// loadPolicies reads every policy_file into Policy.
func (l *Loaded) loadPolicies() error {
	var p problems
	for i := range l.Config.Roles {
		r := &l.Config.Roles[i]
		if r.PolicyFile == "" {
			continue
		}
		field := fmt.Sprintf("role[%d].policy_file", i)
		path := resolvePath(l.Dir, r.PolicyFile)
		data, mode, err := readRegular(path, maxPolicyFile)
		if err != nil {
			p.add(field, err)
			continue
		}
		policy := compactJSON(strings.TrimSpace(string(data)))
		if err := ValidPolicy(policy); err != nil {
			p.add(field, fmt.Errorf("%s: %w", path, err))
			continue
		}
		if mode&0o022 != 0 {
			l.warnf("%s: policy file %s is writable by group or others (mode %04o)", field, path, mode)
		}
		r.Policy, r.PolicyFile, r.policyFromFile = policy, path, true
	}
	return p.err()
}

// checkSecretFile warns about an access key secret file others can read.
// Reading it is [Source.AccessKey]'s job, which reports a missing file.
func (l *Loaded) checkSecretFile() {
	s := l.Config.Source
	if s.Type != SourceAccessKey || s.AccessKeySecretFile == "" {
		return
	}
	path := resolvePath(l.Dir, s.AccessKeySecretFile)
	fi, err := os.Stat(path)
	if err != nil {
		return // AccessKey reports it when the daemon starts
	}
	if mode := fi.Mode().Perm(); mode&0o044 != 0 {
		l.warnf("source.access_key_secret_file %s is readable by group or others (mode %04o)", path, mode)
	}
}

// readRegular reads a regular file of at most limit bytes and returns its
// permission bits, taken from the open file.
func readRegular(path string, limit int64) ([]byte, fs.FileMode, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close() // read-only: a close error loses nothing
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("%s is not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, 0, err
	}
	if int64(len(data)) > limit {
		return nil, 0, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return data, fi.Mode().Perm(), nil
}
