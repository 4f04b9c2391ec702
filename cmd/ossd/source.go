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
)

// newSTSClient builds the real STS client signed by the configured source
// credential. Each source type is one of the SDK's own providers.
func newSTSClient(cfg *config.Config, baseDir string, clk clock.Clock) (*sts.Client, error) {
	src, err := sourceProvider(cfg.Source, baseDir)
	if err != nil {
		return nil, err
	}
	return sts.New(sts.Options{
		Region: cfg.STS.Region, Endpoint: cfg.STS.EndpointURL(), Timeout: time.Duration(cfg.STS.Timeout),
		Source: src, Clock: clk,
	})
}

func sourceProvider(s config.Source, baseDir string) (credentials.CredentialsProvider, error) {
	s, err := s.Resolve(os.Getenv)
	if err != nil {
		return nil, err
	}
	switch s.Type {
	case "access_key":
		id, secret, err := s.AccessKey(os.Getenv, baseDir)
		if err != nil {
			return nil, err
		}
		return credentials.NewStaticAKCredentialsProviderBuilder().
			WithAccessKeyId(id).WithAccessKeySecret(secret.Reveal()).Build()
	case "ecs_ram_role":
		return credentials.NewECSRAMRoleCredentialsProviderBuilder().WithRoleName(s.RoleName).Build()
	case "oidc":
		return credentials.NewOIDCCredentialsProviderBuilder().
			WithOIDCProviderARN(s.OIDCProviderARN).WithRoleArn(s.OIDCRoleARN).
			WithOIDCTokenFilePath(s.OIDCTokenFile).WithRoleSessionName("ossd").Build()
	case "default":
		return credentials.NewDefaultCredentialsProvider(), nil
	}
	return nil, fmt.Errorf("source type %q: want access_key, ecs_ram_role, oidc or default", s.Type)
}

// errCode returns the STS code of err for logs, or "".
func errCode(err error) string { return ossd.ErrorCode(err) }
