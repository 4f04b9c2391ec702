package main

import (
	"fmt"
	"os"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/internal/sts"
	"github.com/ossd/ossd/internal/tokenstore"
)

// upstream is an STS client and the fingerprint of the STS it talks to
// through which source credential (tokenstore.Fingerprint): kept tokens
// are used after a restart only if it is unchanged.
type upstream struct {
	*sts.Client
	fingerprint string
}

// newSTSClient builds the real STS client signed by the configured source
// credential. Each source type is one of the SDK's own providers.
func newSTSClient(cfg *config.Config, baseDir string, clk clock.Clock) (*upstream, error) {
	src, identity, err := sourceProvider(cfg.Source, baseDir)
	if err != nil {
		return nil, err
	}
	endpoint := cfg.STS.EndpointURL()
	c, err := sts.New(sts.Options{
		Region: cfg.STS.Region, Endpoint: endpoint, Timeout: time.Duration(cfg.STS.Timeout),
		Source: src, Clock: clk,
	})
	if err != nil {
		return nil, err
	}
	return &upstream{Client: c, fingerprint: tokenstore.Fingerprint(endpoint, cfg.STS.Region, identity)}, nil
}

// sourceProvider returns the provider of the source credential and its
// identity, as far as it is known without a call: the AccessKeyId of an
// access key, the role of an instance or OIDC source, the AccessKeyId in
// the environment for the default chain. The identity is never a secret.
func sourceProvider(s config.Source, baseDir string) (credentials.CredentialsProvider, string, error) {
	s, err := s.Resolve(os.Getenv)
	if err != nil {
		return nil, "", err
	}
	identity := s.Type + ":"
	var p credentials.CredentialsProvider
	switch s.Type {
	case "access_key":
		id, secret, kerr := s.AccessKey(os.Getenv, baseDir)
		if kerr != nil {
			return nil, "", kerr
		}
		identity += id
		p, err = credentials.NewStaticAKCredentialsProviderBuilder().
			WithAccessKeyId(id).WithAccessKeySecret(secret.Reveal()).Build()
	case "ecs_ram_role":
		identity += s.RoleName
		p, err = credentials.NewECSRAMRoleCredentialsProviderBuilder().WithRoleName(s.RoleName).Build()
	case "oidc":
		identity += s.OIDCProviderARN + "," + s.OIDCRoleARN
		p, err = credentials.NewOIDCCredentialsProviderBuilder().
			WithOIDCProviderARN(s.OIDCProviderARN).WithRoleArn(s.OIDCRoleARN).
			WithOIDCTokenFilePath(s.OIDCTokenFile).WithRoleSessionName("ossd").Build()
	case "default":
		identity += os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_ID")
		p = credentials.NewDefaultCredentialsProvider()
	default:
		return nil, "", fmt.Errorf("source type %q: want access_key, ecs_ram_role, oidc or default", s.Type)
	}
	return p, identity, err
}

// errCode returns the STS code of err for logs, or "".
func errCode(err error) string { return ossd.ErrorCode(err) }
