package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/ossd/ossd"
)

// Environment variables the credential SDKs also read.
const (
	envAccessKeyID     = "ALIBABA_CLOUD_ACCESS_KEY_ID"
	envAccessKeySecret = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
	envOIDCProviderARN = "ALIBABA_CLOUD_OIDC_PROVIDER_ARN"
	envOIDCRoleARN     = "ALIBABA_CLOUD_ROLE_ARN"
	envOIDCTokenFile   = "ALIBABA_CLOUD_OIDC_TOKEN_FILE"
)

// maxKeyFile bounds an access key file; keys are tens of bytes.
const maxKeyFile = 4096

func validSourceType(t string) bool {
	switch t {
	case SourceAccessKey, SourceECSRAMRole, SourceOIDC, SourceDefault:
		return true
	}
	return false
}

// sourceField is a [source] setting that belongs to one type.
type sourceField struct{ key, value, typ string }

func (s Source) typedFields() []sourceField {
	return []sourceField{
		{"access_key_id_file", s.AccessKeyIDFile, SourceAccessKey},
		{"access_key_secret_file", s.AccessKeySecretFile, SourceAccessKey},
		{"access_key_id", s.AccessKeyID, SourceAccessKey},
		{"access_key_secret", string(s.AccessKeySecret), SourceAccessKey},
		{"role_name", s.RoleName, SourceECSRAMRole},
		{"oidc_provider_arn", s.OIDCProviderARN, SourceOIDC},
		{"oidc_role_arn", s.OIDCRoleARN, SourceOIDC},
		{"oidc_token_file", s.OIDCTokenFile, SourceOIDC},
	}
}

// validate checks the type and the format of what is set. Completeness
// depends on the environment and files, so [Source.Resolve] and
// [Source.AccessKey] check it.
func (s Source) validate(p *problems) {
	if s.Type == "" {
		p.addf("source.type", "required: one of %s, %s, %s, %s", SourceAccessKey, SourceECSRAMRole, SourceOIDC, SourceDefault)
		return
	}
	if !validSourceType(s.Type) {
		p.addf("source.type", "unknown type %s: want one of %s, %s, %s, %s",
			quote(s.Type), SourceAccessKey, SourceECSRAMRole, SourceOIDC, SourceDefault)
		return
	}
	for _, f := range s.typedFields() {
		if f.value != "" && f.typ != s.Type {
			p.addf("source."+f.key, "only valid with type %q, not %q", f.typ, s.Type)
		}
	}
	if s.RoleName != "" && !nameRe.MatchString(s.RoleName) {
		p.addf("source.role_name", "malformed RAM role name %s: want 1-64 of [A-Za-z0-9._-]", quote(s.RoleName))
	}
	if s.OIDCProviderARN != "" {
		p.add("source.oidc_provider_arn", validOIDCProviderARN(s.OIDCProviderARN))
	}
	if s.OIDCRoleARN != "" {
		p.add("source.oidc_role_arn", ValidRoleARN(s.OIDCRoleARN))
	}
}

// Resolve returns s with the environment defaults of its type filled in,
// and checks that nothing the type needs is missing. For oidc, an empty
// oidc_provider_arn, oidc_role_arn or oidc_token_file takes the value of
// ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_ROLE_ARN or
// ALIBABA_CLOUD_OIDC_TOKEN_FILE. Other types are returned as they are; an
// access key is resolved by [Source.AccessKey].
func (s Source) Resolve(getenv func(string) string) (Source, error) {
	if s.Type != SourceOIDC {
		return s, nil
	}
	var p problems
	resolve := func(v *string, key, env string, check func(string) error) {
		if *v == "" {
			*v = strings.TrimSpace(getenv(env))
		}
		if *v == "" {
			p.addf("source."+key, "not set, and %s is empty", env)
			return
		}
		p.add("source."+key, check(*v))
	}
	resolve(&s.OIDCProviderARN, "oidc_provider_arn", envOIDCProviderARN, validOIDCProviderARN)
	resolve(&s.OIDCRoleARN, "oidc_role_arn", envOIDCRoleARN, ValidRoleARN)
	resolve(&s.OIDCTokenFile, "oidc_token_file", envOIDCTokenFile, func(string) error { return nil })
	if err := p.err(); err != nil {
		return Source{}, err
	}
	return s, nil
}

// keySource is where one half of an access key may come from, in order.
type keySource struct {
	what, key, file, inline, env string
}

// AccessKey returns the AccessKey pair of an access_key source. Each half
// comes from its file (a relative path is taken relative to baseDir, and
// surrounding whitespace is trimmed), else the inline value, else the
// environment through getenv. The error names what is missing or unreadable,
// never a value.
func (s Source) AccessKey(getenv func(string) string, baseDir string) (id string, secret ossd.Secret, err error) {
	if s.Type != SourceAccessKey {
		return "", "", fmt.Errorf("access key: source type is %q, not %q", s.Type, SourceAccessKey)
	}
	id, idErr := keySource{"access key id", "access_key_id", s.AccessKeyIDFile, s.AccessKeyID, envAccessKeyID}.
		get(getenv, baseDir)
	sec, secErr := keySource{"access key secret", "access_key_secret", s.AccessKeySecretFile, string(s.AccessKeySecret), envAccessKeySecret}.
		get(getenv, baseDir)
	if err = errors.Join(idErr, secErr); err != nil {
		return "", "", err
	}
	return id, ossd.Secret(sec), nil
}

func (k keySource) get(getenv func(string) string, baseDir string) (string, error) {
	var v, from string
	switch {
	case k.file != "":
		path := resolvePath(baseDir, k.file)
		b, _, err := readRegular(path, maxKeyFile)
		if err != nil {
			return "", fmt.Errorf("read %s: %w", k.what, err)
		}
		v, from = strings.TrimSpace(string(b)), "file "+path
	case k.inline != "":
		v, from = k.inline, "source."+k.key
	default:
		v, from = strings.TrimSpace(getenv(k.env)), k.env
		if v == "" {
			return "", fmt.Errorf("no %s: set source.%s_file, source.%s or %s", k.what, k.key, k.key, k.env)
		}
	}
	switch {
	case v == "":
		return "", fmt.Errorf("%s: %s is empty", k.what, from)
	case strings.ContainsFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return "", fmt.Errorf("%s: %s contains whitespace or control characters", k.what, from)
	}
	return v, nil
}

// resolvePath makes a relative path relative to baseDir.
func resolvePath(baseDir, path string) string {
	if filepath.IsAbs(path) || baseDir == "" {
		return path
	}
	return filepath.Join(baseDir, path)
}

// Files returns the files the config refers to whose contents matter when
// it is applied: the source's key files and the roles' policy files, as
// absolute paths (relative ones are relative to baseDir). The OIDC token
// file is not among them: the SDK reads it again whenever it refreshes.
func (c *Config) Files(baseDir string) []string {
	var out []string
	for _, f := range []string{c.Source.AccessKeyIDFile, c.Source.AccessKeySecretFile} {
		if f != "" {
			out = append(out, resolvePath(baseDir, f))
		}
	}
	for _, r := range c.Roles {
		if r.PolicyFile != "" {
			out = append(out, resolvePath(baseDir, r.PolicyFile))
		}
	}
	return out
}
