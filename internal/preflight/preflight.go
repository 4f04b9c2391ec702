package preflight

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ossd/ossd/internal/access"
	"github.com/ossd/ossd/internal/config"
)

// Options tune Load.
type Options struct {
	Getenv func(string) string // nil: os.Getenv
	Lookup access.Lookup       // users and groups; zero: access.System()
	// NoSource skips the source credential checks: ossd serve --dev
	// replaces the source with the embedded local STS's key.
	NoSource bool
}

// Load reads the config file at path and checks it as serve would before
// calling STS. The error lists every problem, each naming its setting.
func Load(path string, o Options) (*config.Loaded, error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Lookup.User == nil || o.Lookup.Group == nil {
		o.Lookup = access.System()
	}
	l, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	var errs []error
	if !o.NoSource {
		errs = append(errs, checkSource(l, o.Getenv))
	}
	errs = append(errs, checkAllow(l.Config, o.Lookup), checkAudit(l.Config, o.Getenv))
	if err := errors.Join(errs...); err != nil {
		abs, _ := filepath.Abs(path) // config.Load made it absolute already
		return nil, fmt.Errorf("config %s: %w", abs, err)
	}
	return l, nil
}

// checkSource finds the source credential: an access key's two halves, or
// the OIDC settings and token file.
func checkSource(l *config.Loaded, getenv func(string) string) error {
	s, err := l.Config.Source.Resolve(getenv)
	if err != nil {
		return err
	}
	switch s.Type {
	case config.SourceAccessKey:
		if _, _, err := s.AccessKey(getenv, l.Dir); err != nil {
			return &config.FieldError{Field: "source", Err: err}
		}
	case config.SourceOIDC:
		if err := regularFile(s.OIDCTokenFile); err != nil {
			return &config.FieldError{Field: "source.oidc_token_file", Err: err}
		}
	}
	return nil
}

// checkAllow resolves every role's users and groups.
func checkAllow(c *config.Config, lookup access.Lookup) error {
	var errs []error
	for i, r := range c.Roles {
		if _, err := access.Compile(r.Allow, lookup); err != nil {
			errs = append(errs, &config.FieldError{Field: fmt.Sprintf("role[%d]", i), Err: err})
		}
	}
	return errors.Join(errs...)
}

// checkAudit checks that the audit log's directory exists.
func checkAudit(c *config.Config, getenv func(string) string) error {
	path := c.Audit.Path(getenv)
	if path == "" {
		return nil
	}
	field := "audit.file"
	if c.Audit.File == "" {
		field = "audit.file ($LOGS_DIRECTORY)"
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil {
		return &config.FieldError{Field: field, Err: fmt.Errorf("directory of %s: %w", path, err)}
	} else if !fi.IsDir() {
		return &config.FieldError{Field: field, Err: fmt.Errorf("%s is not a directory", filepath.Dir(path))}
	}
	// What the file itself may be (a regular file of ossd's, never a link)
	// and the directories above it are audit.Open's to judge, under the
	// socket's path rule; serve refuses there, naming what is wrong.
	return nil
}

func regularFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	return nil
}
