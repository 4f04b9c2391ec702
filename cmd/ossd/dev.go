package main

import (
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	file   string // the config file whose roles run, or "" for the demo role
}

// startDev starts the embedded local STS and returns a config that points
// at it. With file's config (serve --dev --config FILE), it keeps that
// config's roles, listeners, rules and everything else, and replaces only
// the STS endpoint and the source credential; otherwise it runs a demo
// role. Nothing it issues works against Alibaba Cloud.
func startDev(clk clock.Clock, file string, base *config.Config) (*dev, error) {
	s := localsts.New(localsts.Config{Clock: clk, AccountID: devAccount})
	secret := rand.Text() // a fresh source secret per run; never printed
	s.AddAccessKey(devKeyID, secret)
	cfg := base
	if cfg == nil {
		cfg = demoConfig()
	}
	for _, r := range cfg.Roles {
		s.AddRole(r.ARN, 12*time.Hour)
	}
	endpoint, err := s.Start("127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("dev: start local STS: %w", err)
	}
	cfg.STS.Endpoint = endpoint
	cfg.Source = config.Source{Type: config.SourceAccessKey, AccessKeyID: devKeyID}
	client, err := sts.New(sts.Options{
		Region: cfg.STS.Region, Endpoint: endpoint, Timeout: time.Duration(cfg.STS.Timeout), Clock: clk,
		Source: credentials.NewStaticAKCredentialsProvider(devKeyID, secret),
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	return &dev{sts: s, client: client, cfg: cfg, file: file}, nil
}

// demoConfig is plain serve --dev: one demo role, a metadata listener and
// the credentials URI.
func demoConfig() *config.Config {
	cfg := config.Default()
	cfg.STS.Region = "cn-hangzhou"
	cfg.Roles = []config.Role{{Name: "demo", ARN: devRoleARN, SessionName: "ossd-demo", Duration: config.Duration(time.Hour),
		Presign: config.Presign{Buckets: []string{"ossd-demo"}, Methods: []string{"GET", "HEAD", "PUT"}, Region: "cn-hangzhou",
			MaxExpires: config.Duration(11*time.Hour + 55*time.Minute), MaxSessionDuration: config.Duration(12 * time.Hour)}}}
	// Fixed ports when free, else any free port (metadata.go); the banner says which.
	cfg.Metadata = []config.Metadata{{Listen: "127.0.0.1:8100", Role: "demo"}}
	cfg.URI.Listen = "127.0.0.1:8101"
	// One developer and the load tools (ossd-bench, the fault suite) are
	// its callers, all one uid: the per-uid limit is set out of their way,
	// so that they measure the server, limiter lookups included. With
	// --config FILE the file's limit stays, as it would be deployed.
	cfg.Server.RatePerUID, cfg.Server.BurstPerUID = 1e6, 1e6
	return cfg
}

func printDevBanner(w io.Writer, socketPath string, file string, cfg *config.Config) {
	first := cfg.Roles[0]
	what := fmt.Sprintf("  role:     %s (%s)\n", first.Name, first.ARN)
	if file != "" {
		what = fmt.Sprintf("  config:   %s: its roles, listeners and rules run as written;\n"+
			"            its [sts] endpoint and [source] are REPLACED by the local STS\n"+
			"  roles:    %s\n", file, strings.Join(cfg.RoleNames(), ", "))
	}
	fmt.Fprintf(w, `
ossd is running in DEV mode: an embedded local STS issues FAKE credentials
that do not work against Alibaba Cloud.

  socket:   %s
  STS:      %s (local)
%s%s
Try:
  curl --unix-socket %s http://localhost/v1/credentials/%s
  curl --unix-socket %s http://localhost/v1/roles

Stop with Ctrl-C.
`, socketPath, cfg.STS.Endpoint, what, devMetadataBanner(socketPath, cfg), socketPath, first.Name, socketPath)
}

// selfCommand returns how the user can run this ossd again: "ossd" when it
// is on PATH, "go run ./cmd/ossd" for a binary go run built, else this
// binary's path.
func selfCommand() string {
	if _, err := exec.LookPath("ossd"); err == nil {
		return "ossd"
	}
	exe, err := os.Executable()
	if err != nil {
		return "ossd"
	}
	if strings.Contains(exe, string(filepath.Separator)+"go-build") {
		return "go run ./cmd/ossd"
	}
	return exe
}
