package compat

import (
	"github.com/ossd/ossd/internal/needs"

	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	sdkcreds "github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	osscreds "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aliyun/credentials-go/credentials"
	"github.com/aliyun/credentials-go/credentials/providers"

	"github.com/ossd/ossd/internal/testenv"
)

// mdCreds is what a client library handed its caller.
type mdCreds struct {
	AccessKeyId, AccessKeySecret, SecurityToken string
}

// mdClient reads credentials through one unmodified client library.
type mdClient struct {
	name string
	get  func(t *testing.T) (mdCreds, error)
}

func mdStr(s string) *string { return &s }

func mdDeref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// mdCredentialsGo uses credentials-go's NewCredential; a nil cfg is the
// default chain.
func mdCredentialsGo(cfg *credentials.Config) (mdCreds, error) {
	c, err := credentials.NewCredential(cfg)
	if err != nil {
		return mdCreds{}, err
	}
	m, err := c.GetCredential()
	if err != nil {
		return mdCreds{}, err
	}
	return mdCreds{mdDeref(m.AccessKeyId), mdDeref(m.AccessKeySecret), mdDeref(m.SecurityToken)}, nil
}

// mdProvider uses a credentials-go provider as its builder returned it.
func mdProvider[P interface {
	GetCredentials() (*providers.Credentials, error)
}](p P, err error) (mdCreds, error) {
	if err != nil {
		return mdCreds{}, err
	}
	c, err := p.GetCredentials()
	if err != nil {
		return mdCreds{}, err
	}
	return mdCreds{c.AccessKeyId, c.AccessKeySecret, c.SecurityToken}, nil
}

// mdSDKGo uses an alibaba-cloud-sdk-go provider.
func mdSDKGo[P interface {
	GetCredentials() (*sdkcreds.Credentials, error)
}](p P, err error) (mdCreds, error) {
	if err != nil {
		return mdCreds{}, err
	}
	c, err := p.GetCredentials()
	if err != nil {
		return mdCreds{}, err
	}
	return mdCreds{c.AccessKeyId, c.AccessKeySecret, c.SecurityToken}, nil
}

// mdOSS uses an OSS v2 provider.
func mdOSS(p osscreds.CredentialsProvider) (mdCreds, error) {
	c, err := p.GetCredentials(context.Background())
	if err != nil {
		return mdCreds{}, err
	}
	return mdCreds{c.AccessKeyID, c.AccessKeySecret, c.SecurityToken}, nil
}

// mdNode runs compat/node/metadata.js with args and extra environment.
func mdNode(t *testing.T, env []string, args ...string) (mdCreds, error) {
	t.Helper()
	mdNeedNode(t)
	cmd := exec.CommandContext(t.Context(), "node", append([]string{filepath.Join("node", "metadata.js")}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return mdCreds{}, errors.New("node: " + err.Error() + ": " + stderr.String())
	}
	var c mdCreds
	if err := json.Unmarshal(out, &c); err != nil {
		return mdCreds{}, errors.New("node printed something that is not JSON credentials")
	}
	return c, nil
}

// mdNeedNode skips (or, in CI, fails) when node or the pinned client is
// missing.
func mdNeedNode(t *testing.T) {
	t.Helper()
	needs.Tool(t, "node", "nodejs")
	needs.File(t, filepath.Join("node", "node_modules", "@alicloud", "credentials"), "run: npm ci --prefix compat/node (the Node client tests)")
}

// mdCheck fails t unless got is exactly a credential the local STS issued
// for role "reader". Messages never show a secret.
func mdCheck(t *testing.T, env *testenv.Env, who string, got mdCreds, err error) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %s", who, mdRedact(err.Error(), env))
		return
	}
	for _, is := range env.STS.Issued() {
		if is.AccessKeyID != got.AccessKeyId {
			continue
		}
		if got.AccessKeySecret != is.AccessKeySecret {
			t.Errorf("%s: AccessKeySecret for %s differs from the one STS issued", who, got.AccessKeyId)
		}
		if got.SecurityToken != is.SecurityToken {
			t.Errorf("%s: SecurityToken for %s differs from the one STS issued", who, got.AccessKeyId)
		}
		if !strings.HasSuffix(is.RoleArn, ":role/reader") {
			t.Errorf("%s: got credentials of %s, want role reader", who, is.RoleArn)
		}
		return
	}
	t.Errorf("%s: AccessKeyId %q was not issued by the local STS", who, got.AccessKeyId)
}

func mdRedact(s string, env *testenv.Env) string {
	for _, secret := range env.Secrets() {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "<secret>")
		}
	}
	return s
}

func mdRun(t *testing.T, env *testenv.Env, clients []mdClient) {
	t.Helper()
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.get(t)
			mdCheck(t, env, c.name, got, err)
		})
	}
}
