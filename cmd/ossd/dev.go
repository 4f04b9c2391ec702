package main

import (
	"crypto/rand"
	"fmt"
	"io"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"

	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/internal/localsts"
	"github.com/ossd/ossd/internal/sts"
)

const (
	devAccount = "1234567890123456"
	devRoleARN = "acs:ram::" + devAccount + ":role/ossd-demo"
	devKeyID   = "LTAIossdDevSourceKey"
)

type dev struct {
	sts    *localsts.Server
	client *sts.Client
	cfg    *config.Config
}

// startDev starts the embedded local STS with a demo role and returns a
// config that points at it. Nothing it issues works against Alibaba Cloud.
func startDev(clk clock.Clock) (*dev, error) {
	s := localsts.New(localsts.Config{Clock: clk, AccountID: devAccount})
	secret := rand.Text() // a fresh source secret per run; never printed
	s.AddAccessKey(devKeyID, secret)
	s.AddRole(devRoleARN, 12*time.Hour)
	endpoint, err := s.Start("127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("dev: start local STS: %w", err)
	}
	cfg := config.Default()
	cfg.STS.Region = "cn-hangzhou"
	cfg.STS.Endpoint = endpoint
	cfg.Roles = []config.Role{{Name: "demo", ARN: devRoleARN, SessionName: "ossd-demo", Duration: config.Duration(time.Hour),
		Presign: config.Presign{Buckets: []string{"ossd-demo"}, Methods: []string{"GET", "HEAD", "PUT"}, Region: "cn-hangzhou",
			MaxExpires: config.Duration(11*time.Hour + 55*time.Minute), MaxSessionDuration: config.Duration(12 * time.Hour)}}}
	// Fixed ports when free, else any free port (metadata.go); the banner says which.
	cfg.Metadata = []config.Metadata{{Listen: "127.0.0.1:8100", Role: "demo"}}
	cfg.URI.Listen = "127.0.0.1:8101"
	client, err := sts.New(sts.Options{
		Region: cfg.STS.Region, Endpoint: endpoint, Timeout: time.Duration(cfg.STS.Timeout), Clock: clk,
		Source: credentials.NewStaticAKCredentialsProvider(devKeyID, secret),
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	return &dev{sts: s, client: client, cfg: cfg}, nil
}

func printDevBanner(w io.Writer, socketPath string, cfg *config.Config) {
	fmt.Fprintf(w, `
ossd is running in DEV mode: an embedded local STS issues FAKE credentials
that do not work against Alibaba Cloud.

  socket:   %s
  STS:      %s (local)
  role:     demo (%s)
%s
Try:
  curl --unix-socket %s http://localhost/v1/credentials/demo
  curl --unix-socket %s http://localhost/v1/roles

Stop with Ctrl-C.
`, socketPath, cfg.STS.Endpoint, devRoleARN, devMetadataBanner(socketPath, cfg), socketPath, socketPath)
}
